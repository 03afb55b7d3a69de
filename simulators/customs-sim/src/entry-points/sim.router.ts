import { Router } from 'express';
import { AppError } from '@ceb179/errors';
import { newSessionID, type CallbackRequest } from '../clients/callback.client';
import type { CertificateRegistry, RegistryEntry } from '../domain/certificate-registry';
import type { UploadDesk } from '../domain/upload-desk';
import type { UploadLog } from '../domain/upload-log';
import type { CallbackResult, UploadRecord } from '../domain/types';

export type FireCallback = (request: CallbackRequest) => Promise<CallbackResult>;

/** A callback that could not be delivered at all (connection refused, timeout). */
export interface CallbackFailure {
  orderNo: string;
  sessionID: string;
  error: string;
}

/**
 * Control endpoints for running the simulator as a service (the demo drives it over HTTP).
 * Not part of anything customs offers.
 */
export function simRoutes(deps: { desk: UploadDesk; log: UploadLog; registry: CertificateRegistry; fireCallback: FireCallback }): Router {
  const router = Router();

  router.get('/uploads', (_req, res) => {
    res.json(deps.log.uploads().map(({ rawBody: _omitted, ...rest }) => rest));
  });

  router.get('/uploads/:sessionID', (req, res) => {
    const upload: UploadRecord | undefined = deps.log.find(req.params.sessionID);
    if (!upload) throw new AppError('NOT_FOUND', `no upload for sessionID ${req.params.sessionID}`);
    res.json(upload);
  });

  router.get('/certificates', (_req, res) => {
    res.json(deps.registry.list().map(describeEntry));
  });

  router.post('/certificates', (req, res) => {
    const body = objectBody(req.body);
    const entry = deps.registry.register({
      certificateBase64: body['certificateBase64'] as string,
      ...(body['ebpCodes'] === undefined ? {} : { ebpCodes: body['ebpCodes'] as string[] }),
    });
    res.status(201).json(describeEntry(entry));
  });

  router.post('/faults', (req, res) => {
    const body = objectBody(req.body);
    const count = body['count'];
    const httpStatus = body['httpStatus'] ?? 503;
    if (typeof count !== 'number' || typeof httpStatus !== 'number') {
      throw new AppError('INVALID_INPUT', 'expected {"count": <n>, "httpStatus": <status>}');
    }
    deps.desk.failNext(count, httpStatus);
    res.json({ count, httpStatus });
  });

  router.post('/holds', (req, res) => {
    const body = objectBody(req.body);
    const { count, holdMs } = body;
    if (typeof count !== 'number' || typeof holdMs !== 'number')
      throw new AppError('INVALID_INPUT', 'expected {"count": <n>, "holdMs": <ms>}');
    deps.desk.holdNextReplies(count, holdMs);
    res.json({ count, holdMs });
  });

  router.post('/refusals', (req, res) => {
    const body = objectBody(req.body);
    const { count, code, message } = body;
    if (typeof count !== 'number' || typeof code !== 'string' || typeof message !== 'string') {
      throw new AppError('INVALID_INPUT', 'expected {"count": <n>, "code": "20006", "message": "..."}');
    }
    deps.desk.refuseNextUploads(count, code, message);
    res.json({ count, code, message });
  });

  router.post('/callbacks', async (req, res) => {
    const body = objectBody(req.body);
    const ingressUrl = body['ingressUrl'];
    const callbacks = body['callbacks'];
    if (typeof ingressUrl !== 'string' || !Array.isArray(callbacks)) {
      throw new AppError('INVALID_INPUT', 'expected {"ingressUrl": "...", "callbacks": [{"orderNo": "..."}]}');
    }
    const requests = callbacks.map((item: unknown, index) => callbackRequest(ingressUrl, item, index));
    // Fired together, as customs' audit does; each outcome is reported, a failed one does not hide the rest.
    const settled = await Promise.allSettled(requests.map((r) => deps.fireCallback(r)));
    res.json(
      settled.map((outcome, index): CallbackResult | CallbackFailure => {
        if (outcome.status === 'fulfilled') return outcome.value;
        const request = requests[index] as CallbackRequest;
        const reason: unknown = outcome.reason;
        return {
          orderNo: request.orderNo,
          sessionID: request.sessionID as string,
          error: reason instanceof Error ? reason.message : String(reason),
        };
      }),
    );
  });

  return router;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('INVALID_INPUT', 'expected a JSON object body (Content-Type: application/json)');
  }
  return body as Record<string, unknown>;
}

function callbackRequest(ingressUrl: string, item: unknown, index: number): CallbackRequest {
  const fields = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  const { orderNo, sessionID, serviceTimeAs, serviceTime } = fields;
  if (typeof orderNo !== 'string' || orderNo === '') throw new AppError('INVALID_INPUT', `callbacks[${index}].orderNo must be a string`);
  if (sessionID !== undefined && typeof sessionID !== 'string')
    throw new AppError('INVALID_INPUT', `callbacks[${index}].sessionID must be a string`);
  if (serviceTimeAs !== undefined && serviceTimeAs !== 'string' && serviceTimeAs !== 'number') {
    throw new AppError('INVALID_INPUT', `callbacks[${index}].serviceTimeAs must be "string" or "number"`);
  }
  if (serviceTime !== undefined && typeof serviceTime !== 'number')
    throw new AppError('INVALID_INPUT', `callbacks[${index}].serviceTime must be a number`);
  return {
    ingressUrl,
    orderNo,
    // Chosen here rather than by the client so that an undeliverable callback still reports it.
    sessionID: sessionID ?? newSessionID(),
    ...(serviceTimeAs === undefined ? {} : { serviceTimeAs }),
    ...(serviceTime === undefined ? {} : { serviceTime }),
  };
}

function describeEntry(entry: RegistryEntry): { certNo: string; algorithm: string; ebpCodes: string[] | null } {
  return { certNo: entry.certNo, algorithm: entry.certificate.algorithm, ebpCodes: entry.ebpCodes ? [...entry.ebpCodes] : null };
}

import { AppError } from '@ceb179/errors';
import {
  ControlMethods,
  buildControlGreeting,
  buildControlReply,
  buildControlRequest,
  controlText,
  parseControlFrame,
  type ControlReply,
} from './index';
import { loadGoldenVectors } from './testing/golden-vectors';

const signString = (loadGoldenVectors().cases[1] as { expected: { signString: string } }).expected.signString;

function replyOf(text: string): ControlReply {
  const frame = parseControlFrame(text);
  if (frame.kind !== 'reply') throw new Error(`not a reply: ${text}`);
  return frame.reply;
}

describe('control envelope', () => {
  it('names the methods of the control', () => {
    expect(ControlMethods).toEqual({
      signDataAsPem: 'cus-sec_SpcSignDataAsPEM',
      getCertNo: 'cus-sec_SpcGetCertNo',
      getSignCertAsPem: 'cus-sec_SpcGetSignCertAsPEM',
      getValidTimeFromCert: 'cus-sec_SpcGetValidTimeFromCert',
      getCardId: 'cus-sec_SpcGetCardID',
      verifyPin: 'cus-sec_SpcVerifyPIN',
    });
  });

  it('builds a request with args (no underscore) and the sign string intact', () => {
    const text = buildControlRequest(7, ControlMethods.signDataAsPem, { inData: signString, passwd: '88888888' });
    expect(text.startsWith('{"_method":"cus-sec_SpcSignDataAsPEM","_id":7,"args":{"inData":')).toBe(true);
    expect((JSON.parse(text) as { args: { inData: string } }).args.inData).toBe(signString);
    expect(buildControlRequest(1, ControlMethods.getCertNo, {})).toBe('{"_method":"cus-sec_SpcGetCertNo","_id":1,"args":{}}');
  });

  it('refuses a request id that cannot be matched', () => {
    expect(() => buildControlRequest(-1, ControlMethods.getCertNo, {})).toThrow(AppError);
    expect(() => buildControlRequest(1.5, ControlMethods.getCertNo, {})).toThrow(AppError);
    expect(() => buildControlRequest(1, '', {})).toThrow(AppError);
  });

  it('recognises the greeting in its known shapes', () => {
    expect(parseControlFrame(buildControlGreeting()).kind).toBe('greeting');
    expect(parseControlFrame('{"_id":0,"_method":"open","_status":"00","_args":{"Result":true,"Data":[],"Error":[]}}').kind).toBe(
      'greeting',
    );
    expect(parseControlFrame('{"_id":0,"_status":"00"}').kind).toBe('greeting');
    const frame = parseControlFrame('{"_method":"open"}');
    expect(frame).toEqual({ kind: 'greeting', raw: { _method: 'open' } });
  });

  it('reads a successful sign reply', () => {
    const text =
      '{"_id":7,"_method":"cus-sec_SpcSignDataAsPEM","_status":"00","_args":{"Result":true,"Data":["c2ln","01691f7f"],"Error":[]}}';
    expect(replyOf(text)).toEqual({
      id: 7,
      method: 'cus-sec_SpcSignDataAsPEM',
      status: '00',
      result: true,
      data: ['c2ln', '01691f7f'],
      errors: [],
    });
  });

  it('treats _status "00" with Result false as a failure', () => {
    const reply = replyOf(
      '{"_id":3,"_method":"cus-sec_SpcSignDataAsPEM","_status":"00","_args":{"Result":false,"Data":[],"Error":["Err:Custom50200"]}}',
    );
    expect(reply.result).toBe(false);
    expect(reply.errors).toEqual(['Err:Custom50200']);
  });

  it('tolerates Error as a string, Data missing, and the id as text', () => {
    const reply = replyOf(
      '{"_id":"12","_method":"cus-sec_SpcVerifyPIN","_status":"00","_args":{"Result":false,"Error":"Err:Custom50070"}}',
    );
    expect(reply).toEqual({ id: 12, method: 'cus-sec_SpcVerifyPIN', status: '00', result: false, data: [], errors: ['Err:Custom50070'] });
    expect(replyOf('{"_id":2,"_args":{"Result":true,"Data":"x","Error":""}}')).toMatchObject({ result: true, data: ['x'], errors: [] });
  });

  it('counts only a boolean true as success', () => {
    expect(replyOf('{"_id":2,"_args":{"Result":"true","Data":[]}}').result).toBe(false);
    expect(replyOf('{"_id":2,"_args":{"Result":1}}').result).toBe(false);
  });

  it('turns a reply without _args into a failed reply for its id', () => {
    expect(replyOf('{"_id":5,"_method":"cus-sec_SpcGetCertNo","_status":"01"}')).toMatchObject({ id: 5, result: false, status: '01' });
  });

  it('reads a Data item as text: strings as sent, numbers as digits, anything else as JSON, never [object Object]', () => {
    expect([controlText('01691f7f'), controlText(1691), controlText(true)]).toEqual(['01691f7f', '1691', 'true']);
    expect([controlText(undefined), controlText(null, 'unknown')]).toEqual(['', 'unknown']);
    expect(controlText({ certNo: '01' })).toBe('{"certNo":"01"}');
  });

  it('round-trips the simulator reply', () => {
    const text = buildControlReply(9, ControlMethods.getCertNo, true, ['01691f7f']);
    expect(text).toBe('{"_id":9,"_method":"cus-sec_SpcGetCertNo","_status":"00","_args":{"Result":true,"Data":["01691f7f"],"Error":[]}}');
    expect(replyOf(buildControlReply(4, ControlMethods.verifyPin, false, [], ['PIN locked']))).toMatchObject({
      result: false,
      errors: ['PIN locked'],
    });
  });

  it.each(['', 'garbage', '{"_id":', '[1,2]', 'null', '"text"', '{"_method":"cus-sec_SpcGetCertNo"}', '{"_id":1.5,"_args":{}}'])(
    'throws PROTOCOL on %j',
    (text) => {
      expect(() => parseControlFrame(text)).toThrow(expect.objectContaining({ code: 'PROTOCOL' }));
    },
  );
});

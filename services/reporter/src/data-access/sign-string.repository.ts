import type { Pool } from '@ceb179/db';

export interface SignedDocument {
  status: string;
  ebpCode: string | null;
  signString: string | null;
}

/** What a signature must be checked against: the sign string and ebpCode stored at assembly. */
export class SignStringRepository {
  constructor(private readonly pool: Pool) {}

  async find(sessionID: string): Promise<SignedDocument | undefined> {
    const { rows } = await this.pool.query<{ status: string; ebp_code: string | null; sign_string: string | null }>(
      'SELECT status, ebp_code, sign_string FROM ceb179.request WHERE session_id = $1',
      [sessionID],
    );
    const row = rows[0];
    return row && { status: row.status, ebpCode: row.ebp_code, signString: row.sign_string };
  }
}

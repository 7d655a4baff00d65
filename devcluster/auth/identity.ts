// Who is calling: bearer tokens mapped to users and groups (a static token file, as
// kube-apiserver's --token-auth-file), and the admin identity used when auth is off.
import { readFileSync } from 'node:fs';

/** An authenticated caller. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

/** One token and the identity it stands for. */
export interface TokenIdentity {
  token: string;
  user: string;
  uid?: string;
  groups?: string[];
}

/** The identity every request has when authentication is off. */
export const ADMIN: UserInfo = { username: 'devcluster-admin', groups: ['system:masters', 'system:authenticated'] };

/** The token file is neither kube-apiserver CSV nor the devcluster's JSON list. */
export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
}

/**
 * Reads tokens from a file: JSON (`[{token, user, groups}]`) or kube-apiserver's CSV
 * (`token,user,uid,"group1,group2"`).
 */
export function readTokenFile(path: string): TokenIdentity[] {
  const text = readFileSync(path, 'utf8').trim();
  if (text.startsWith('[')) {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed) || !parsed.every((t) => typeof t?.token === 'string' && typeof t?.user === 'string')) {
      throw new TokenFileError(`token file ${path}: expected a JSON list of {token, user, groups?}, found another shape`);
    }
    return parsed as TokenIdentity[];
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line, i) => {
      const m = /^([^,]+),([^,]+),([^,]*)(?:,"?([^"]*)"?)?$/.exec(line);
      if (!m) throw new TokenFileError(`token file ${path} line ${i + 1}: expected token,user,uid[,"group1,group2"], found ${JSON.stringify(line)}`);
      const groups = (m[4] ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '');
      return { token: m[1] ?? '', user: m[2] ?? '', uid: m[3] ?? '', groups };
    });
}

/** Maps bearer tokens to identities; unknown or missing tokens authenticate no one. */
export class TokenAuthenticator {
  readonly #byToken = new Map<string, UserInfo>();

  constructor(tokens: TokenIdentity[]) {
    for (const t of tokens) {
      const u: UserInfo = { username: t.user, groups: [...new Set([...(t.groups ?? []), 'system:authenticated'])] };
      if (t.uid) u.uid = t.uid;
      this.#byToken.set(t.token, u);
    }
  }

  /** The identity of an `Authorization: Bearer <token>` header, or undefined. */
  authenticate(header: string | undefined): UserInfo | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    return m ? this.#byToken.get(m[1] ?? '') : undefined;
  }
}

// Request bodies and response shapes: JSON or YAML bodies, and the `Accept` variants kubectl
// asks for (Table, PartialObjectMetadata).
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest } from '../store/errors.ts';

/** What representation the client asked for. */
export type Representation = 'object' | 'table' | 'metadata';

/** The representation an `Accept` header asks for; JSON objects unless a Table or metadata is first. */
export function representation(accept: string | undefined): Representation {
  const first = (accept ?? '').split(',')[0] ?? '';
  if (first.includes('as=Table')) return 'table';
  if (first.includes('as=PartialObjectMetadata')) return 'metadata';
  return 'object';
}

/** Reads the whole request body (limit 16 MiB). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > 16 * 1024 * 1024) throw new ApiError(413, 'RequestEntityTooLarge', 'the request body is larger than 16 MiB');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON (or, for YAML content types, YAML) body. */
export function parseBody(text: string, contentType: string | undefined): unknown {
  if (text.trim() === '') return undefined;
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('protobuf') || ct.includes('cbor')) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (found ${ct})`);
  }
  try {
    if (ct.includes('yaml')) {
      // A YAML body that looks like JSON is decoded as JSON first, as apimachinery's
      // YAMLOrJSONDecoder sniffs for '{': JSON is YAML, and clients (client-go, client-node,
      // kubectl) send server-side apply bodies as JSON. Anything else goes to the YAML parser.
      if (text.trimStart().startsWith('{')) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          // Not JSON after all: the YAML parser decides, and names the error.
        }
      }
      return parseYaml(text) as unknown;
    }
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the request body could not be decoded: expected ${ct.includes('yaml') ? 'YAML' : 'JSON'}, found a syntax error (${(err as Error).message.split('\n')[0] ?? ''})`);
  }
}

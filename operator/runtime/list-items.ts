// A list response parsed an item at a time, as it arrives. kube-apiserver answers a list at
// resourceVersion 0 from its watch cache in one response whatever the page size. Read whole, a
// relist held each kind's text and every object in it at once, and at each resync every kind's
// text, tens of MB, stayed in V8's large-object space until a full collection (measured at
// 1,000 enclaves: the 10-minute resync took the operator from 218 to 355 MB). Fed in pieces,
// only the item being read is kept, and an item the cache already holds is garbage at once.

/** The list's own fields (`metadata`, `kind`, …), with `items` emptied. */
export type ListEnvelope = Record<string, unknown> & { metadata?: { resourceVersion?: string; continue?: string } };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
// The top-level key "items" and its colon, at the end of the text before a `[`.
const ITEMS_KEY = /[{,\s]"items"\s*:\s*$/;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * Reads a JSON list given in pieces (`write`), calling `onItem` with each element of its top-level
 * `items` array, parsed on its own and in order, as soon as the element is complete; `end` parses
 * and returns the rest. Items must be objects (a Kubernetes list's are). Malformed JSON throws a
 * SyntaxError, from `write` or `end`.
 */
export class ListItemReader {
  readonly #onItem: (item: unknown) => void;
  /** The text outside the items array, kept to parse the envelope at the end. */
  #envelope: string[] = [];
  /** The current item's text from earlier pieces. */
  #item: string[] = [];
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** 0: not in the items array; 1: in it, between items; 2: reading an item. */
  #itemsState: 0 | 1 | 2 = 0;
  #itemsSeen = false;
  /** In the items array, an item has ended and no comma has come yet. */
  #afterItem = false;

  constructor(onItem: (item: unknown) => void) {
    this.#onItem = onItem;
  }

  write(piece: string): void {
    // Where the text to keep starts in this piece: the envelope's or the current item's.
    let from = 0;
    for (let at = 0; at < piece.length; at++) {
      const code = piece.charCodeAt(at);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (code === BACKSLASH) this.#escaped = true;
        else if (code === QUOTE) this.#inString = false;
        continue;
      }
      if (this.#itemsState === 1) {
        // Between items: only separators, the next item or the array's end.
        if (isSpace(code)) continue;
        if (code === COMMA && this.#afterItem) {
          this.#afterItem = false;
          continue;
        }
        if (code === CLOSE_BRACKET) {
          this.#itemsState = 0;
          this.#depth -= 1;
          from = at;
          continue;
        }
        if (code !== OPEN_BRACE || this.#afterItem) throw new SyntaxError(`expected ${this.#afterItem ? "',' or ']' after a list item" : 'a list item to be an object'}, but found '${piece[at]}'`);
        this.#itemsState = 2;
        this.#depth += 1;
        from = at;
        continue;
      }
      if (code === QUOTE) this.#inString = true;
      else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        this.#depth += 1;
        if (code === OPEN_BRACKET && this.#depth === 2 && this.#itemsState === 0 && !this.#itemsSeen && this.#isAtItems(piece, from, at)) {
          this.#envelope.push(piece.slice(from, at + 1));
          this.#itemsState = 1;
          this.#itemsSeen = true;
        }
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        this.#depth -= 1;
        if (this.#depth < 0) throw new SyntaxError(`unexpected '${piece[at]}' in a JSON list`);
        if (this.#itemsState === 2 && this.#depth === 2) {
          this.#item.push(piece.slice(from, at + 1));
          const text = this.#item.length === 1 ? this.#item[0]! : this.#item.join('');
          this.#item = [];
          this.#itemsState = 1;
          this.#afterItem = true;
          this.#onItem(JSON.parse(text));
        }
      }
    }
    if (this.#itemsState === 2) this.#item.push(piece.slice(from));
    else if (this.#itemsState === 0) this.#envelope.push(piece.slice(from));
  }

  /** Parses what is left, the list without its items; throws a SyntaxError if the list is incomplete or not an object. */
  end(): ListEnvelope {
    if (this.#itemsState !== 0 || this.#inString) throw new SyntaxError('unexpected end of a JSON list: an item or the items array is unfinished');
    const envelope = JSON.parse(this.#envelope.join('')) as unknown;
    if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) throw new SyntaxError('expected a JSON object (a Kubernetes list), but found another JSON value');
    return envelope as ListEnvelope;
  }

  /** True when the `[` at `at` opens the value of the top-level key "items". */
  #isAtItems(piece: string, from: number, at: number): boolean {
    // The key may have come in an earlier piece; the envelope before the items is small.
    const before = piece.slice(from, at);
    return ITEMS_KEY.test(before.length >= 64 ? before.slice(-64) : (this.#envelope.join('') + before).slice(-64));
  }
}

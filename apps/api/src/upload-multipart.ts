// The one file of a `multipart/form-data` upload (RFC 7578), streamed: the body is scanned for
// the boundary as it arrives and the file part's bytes are passed on as they come, so the upload
// store can enforce its byte limit mid-stream exactly as for a `text/csv` body. Form fields
// other than the file (small ones: a filename, a note) are skipped; a second file, a body cut
// before its closing boundary or a malformed part refuses the upload with MultipartError.
//
//   preamble ─► boundary ─► part headers ─► part body ─► boundary ─► … ─► closing `--` ─► done
//
// Memory: the unscanned tail of the last chunk (at most a boundary's length) and one part's
// headers (capped), whatever the file size.

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

/** Part headers longer than this are refused (a body that is not really multipart). */
const MAX_HEADER_BYTES = 16 * 1024;
/** Bytes outside the file (preamble, other fields, headers) accepted in all. */
export const MAX_MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
const DASH_DASH = Buffer.from('--');

/** The boundary of a `multipart/form-data` content type; MultipartError if it has none. */
export function multipartBoundary(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) throw new MultipartError('multipart/form-data needs a boundary parameter');
  return boundary;
}

type State = 'preamble' | 'boundary' | 'headers' | 'body' | 'epilogue';

/**
 * Yields the bytes of the only file part of `source` (a part whose Content-Disposition has a
 * filename). Throws MultipartError when there is no file, more than one, or the body is malformed.
 */
export async function* multipartFile(
  source: AsyncIterable<Uint8Array | string>,
  boundary: string,
): AsyncGenerator<Buffer> {
  const opening = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let state = 'preamble' as State;
  let pending: Buffer = Buffer.alloc(0);
  let inFile = false;
  let files = 0;
  let overhead = 0;
  const countOverhead = (bytes: number) => {
    overhead += bytes;
    if (overhead > MAX_MULTIPART_OVERHEAD_BYTES) {
      throw new MultipartError(
        `the multipart body holds more than ${MAX_MULTIPART_OVERHEAD_BYTES} bytes besides the file`,
      );
    }
  };

  for await (const chunk of source) {
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
    scanning: for (;;) {
      switch (state) {
        case 'preamble': {
          const at = pending.indexOf(opening);
          if (at < 0) {
            const keep = Math.min(pending.length, opening.length - 1);
            countOverhead(pending.length - keep);
            pending = pending.subarray(pending.length - keep);
            break scanning;
          }
          countOverhead(at);
          pending = pending.subarray(at + opening.length);
          state = 'boundary';
          continue;
        }
        case 'boundary': {
          if (pending.length < 2) break scanning;
          if (pending.subarray(0, 2).equals(DASH_DASH)) {
            state = 'epilogue';
            continue;
          }
          // Transport padding (spaces, tabs) may follow a boundary before its CRLF.
          const lineEnd = pending.indexOf(CRLF);
          if (lineEnd < 0) {
            if (pending.length > 256) throw new MultipartError('a multipart boundary line does not end');
            break scanning;
          }
          if (pending.subarray(0, lineEnd).toString('latin1').trim() !== '') {
            throw new MultipartError('a multipart boundary is followed by unexpected bytes');
          }
          pending = pending.subarray(lineEnd + 2);
          state = 'headers';
          continue;
        }
        case 'headers': {
          const end = pending.indexOf(HEADERS_END);
          if (end < 0) {
            if (pending.length > MAX_HEADER_BYTES)
              throw new MultipartError('the headers of a multipart part are too long');
            break scanning;
          }
          countOverhead(end + HEADERS_END.length);
          inFile = isFilePart(pending.subarray(0, end).toString('utf8'));
          if (inFile) {
            files += 1;
            if (files > 1) throw new MultipartError('the multipart body holds more than one file; send one');
          }
          pending = pending.subarray(end + HEADERS_END.length);
          state = 'body';
          continue;
        }
        case 'body': {
          const at = pending.indexOf(delimiter);
          const end = at < 0 ? pending.length - (delimiter.length - 1) : at;
          if (end > 0) {
            if (inFile) yield pending.subarray(0, end);
            else countOverhead(end);
          }
          if (at < 0) {
            if (end > 0) pending = pending.subarray(end);
            break scanning;
          }
          pending = pending.subarray(at + delimiter.length);
          inFile = false;
          state = 'boundary';
          continue;
        }
        case 'epilogue':
          // Whatever follows the closing boundary is ignored (RFC 2046), but still bounded.
          countOverhead(pending.length);
          pending = Buffer.alloc(0);
          break scanning;
      }
    }
  }
  if (state !== 'epilogue') throw new MultipartError('the multipart body ends before its closing boundary');
  if (files === 0)
    throw new MultipartError('the multipart body holds no file part (a field with a filename)');
}

/** A part is the file when its Content-Disposition names a filename. */
function isFilePart(headers: string): boolean {
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    return /;\s*filename\*?=/i.test(line.slice(colon + 1));
  }
  return false;
}

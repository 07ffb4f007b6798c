// Job ids: UUIDv7 (RFC 9562), a 48-bit Unix millisecond timestamp then random bits, so that sorting
// by id is sorting by creation. Within one millisecond a process counts up in the 12 `rand_a` bits,
// so a batch's ids follow its order; past 4096 ids in a millisecond the clock is borrowed from the
// next one. The job's `created_on` is set to the id's millisecond (see `idTime`).
import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let sequence = 0;
const random = Buffer.alloc(16 * 256);
let offset = random.length;

export function uuidv7(now = Date.now()): string {
  let ms = now;
  if (ms <= lastMs) {
    ms = lastMs;
    sequence += 1;
    if (sequence > 0xfff) {
      ms += 1;
      sequence = 0;
    }
  } else {
    sequence = randomInt12() & 0x7ff; // leave half the range for ids later in the same millisecond
  }
  lastMs = ms;
  if (offset + 10 > random.length) {
    randomFillSync(random);
    offset = 0;
  }
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  random.copy(bytes, 8, offset, offset + 8);
  offset += 8;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The millisecond a UUIDv7 was minted at. */
export function idTime(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

function randomInt12(): number {
  if (offset + 2 > random.length) {
    randomFillSync(random);
    offset = 0;
  }
  const value = random.readUInt16BE(offset) & 0xfff;
  offset += 2;
  return value;
}

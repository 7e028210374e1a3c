/**
 * Streams the decompressed bytes of a gzip file and keeps everything that precedes damage. Node's
 * gunzip drops the output of the chunk in which it meets an error (a truncated stream, a bad CRC in
 * the trailer), so on an error the file is inflated again as raw deflate — which checks no CRC and
 * stops quietly where the data ends — and the bytes not yet delivered are delivered from that.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

export interface GunzipResult {
  /** The stream was damaged or cut short; what came before was delivered. */
  damaged: boolean;
}

/** Size of the gzip member header (RFC 1952) at the start of `head`, or -1 when it is not gzip. */
function gzipHeaderSize(head: Buffer): number {
  if (head.length < 10 || head[0] !== 0x1f || head[1] !== 0x8b || head[2] !== 8) return -1;
  const flags = head[3]!;
  let p = 10;
  if (flags & 4) p += 2 + head.readUInt16LE(p); // FEXTRA
  if (flags & 8) while (p < head.length && head[p++] !== 0); // FNAME
  if (flags & 16) while (p < head.length && head[p++] !== 0); // FCOMMENT
  if (flags & 2) p += 2; // FHCRC
  return p <= head.length ? p : -1;
}

/** `onData` may return a promise to hold the stream back (backpressure). */
export async function gunzipFile(file: string, onData: (chunk: Buffer) => void | Promise<void>): Promise<GunzipResult> {
  let delivered = 0;
  try {
    const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
    for await (const d of raw.pipe(zlib.createGunzip({ chunkSize: 1 << 20 }))) {
      delivered += (d as Buffer).length;
      await onData(d as Buffer);
    }
    return { damaged: false };
  } catch {
    // salvage below
  }
  const fd = fs.openSync(file, 'r');
  let headerSize: number;
  try {
    const head = Buffer.alloc(64 * 1024);
    headerSize = gzipHeaderSize(head.subarray(0, fs.readSync(fd, head, 0, head.length, 0)));
  } finally {
    fs.closeSync(fd);
  }
  if (headerSize < 0) return { damaged: true };
  let seen = 0;
  try {
    const inflate = zlib.createInflateRaw({ chunkSize: 1 << 20, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    for await (const d of fs.createReadStream(file, { start: headerSize, highWaterMark: 1 << 20 }).pipe(inflate)) {
      const b = d as Buffer;
      if (seen + b.length > delivered) await onData(seen >= delivered ? b : b.subarray(delivered - seen));
      seen += b.length;
    }
  } catch {
    // the raw stream breaks where the damage is; everything before it has been delivered
  }
  return { damaged: true };
}

import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The hosts file's text, refusing what is not a regular file (a FIFO would
 * block the read, a device may never end) and files over `max` bytes, with
 * errors whose `code` is `EFTYPE` and `EFBIG`.
 */
export function readHostsFile(path: string, max: number): string {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EFTYPE' });
    const tooBig = () => Object.assign(new Error(`${path} is larger than ${max} bytes`), { code: 'EFBIG' });
    if (stat.size > max) throw tooBig();
    // The file may have grown since fstat: count while reading.
    const chunks: Buffer[] = [];
    const chunk = Buffer.allocUnsafe(64 * 1024);
    let total = 0;
    for (let read; (read = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
      total += read;
      if (total > max) throw tooBig();
      chunks.push(Buffer.from(chunk.subarray(0, read)));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

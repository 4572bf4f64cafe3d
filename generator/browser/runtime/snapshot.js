// The worker's reading of a Pyodide snapshot file (make_snapshot.mjs writes it): pure, so node
// tests check it against the writer.

/**
 * The memory a snapshot file describes. The file holds only the pages that are not all zero
 * (make_snapshot.mjs packPages): "LPSNAP\0\1", u32 memory size, u32 page size, u32 page count,
 * the page numbers, then the pages.
 */
export function unpackSnapshot(bytes) {
  const magic = [76, 80, 83, 78, 65, 80, 0, 1];
  if (bytes.length < 20 || magic.some((byte, i) => bytes[i] !== byte)) throw new Error("not a LabPress snapshot file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [size, pageSize, count] = [view.getUint32(8, true), view.getUint32(12, true), view.getUint32(16, true)];
  const dataAt = 20 + 4 * count;
  if (!pageSize || bytes.length !== dataAt + count * pageSize) throw new Error("the snapshot file is not whole");
  const memory = new Uint8Array(size);
  for (let i = 0; i < count; i++) {
    const start = view.getUint32(20 + 4 * i, true) * pageSize;
    if (start >= size) throw new Error("the snapshot file is not whole");
    const from = dataAt + i * pageSize;
    memory.set(bytes.subarray(from, from + Math.min(pageSize, size - start)), start);
  }
  return memory;
}

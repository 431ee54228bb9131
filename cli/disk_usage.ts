/**
 * Sizes of output folders, for a command's closing "where your outputs are" lines.
 * Not here: deleting anything.
 */

/** Bytes and files under `path` (recursively; symlinks not followed); zeros when it is absent. */
export function diskUsage(path: string): { nBytes: number; nFiles: number } {
  let nBytes = 0, nFiles = 0;
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { nBytes, nFiles };
    throw e;
  }
  if (info.isFile) return { nBytes: info.size, nFiles: 1 };
  if (!info.isDirectory) return { nBytes, nFiles };
  for (const entry of Deno.readDirSync(path)) {
    const sub = diskUsage(`${path}/${entry.name}`);
    nBytes += sub.nBytes;
    nFiles += sub.nFiles;
  }
  return { nBytes, nFiles };
}

/** "1.7 GB", "312 MB", "48 kB": decimal units, as `du --si` prints them. */
export function formatBytes(nBytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let x = nBytes, u = 0;
  while (x >= 1000 && u < units.length - 1) {
    x /= 1000;
    u++;
  }
  return `${u === 0 ? x : x < 10 ? x.toFixed(1) : x.toFixed(0)} ${units[u]}`;
}

import test from 'ava';
import { FIXED_MTIME, deterministicZip, readZip } from '../../../commands/build/zip.js';

const entries = [
  { path: 'b.txt', data: Buffer.from('hello') },
  { path: 'a/lib.node', data: Buffer.from('binary'), executable: true },
];

test('gives the same bytes whatever the order of the entries', (t) => {
  t.is(deterministicZip(entries).sha256, deterministicZip([...entries].reverse()).sha256);
});

test('round-trips every file and counts the unzipped bytes', (t) => {
  const zip = deterministicZip(entries);
  const files = readZip(zip.bytes);
  t.deepEqual(Object.keys(files), ['a/lib.node', 'b.txt']);
  t.is(Buffer.from(files['b.txt']!).toString(), 'hello');
  t.is(zip.unzippedBytes, 11);
});

test('stamps every entry with the fixed time and a Unix mode', (t) => {
  const bytes = Buffer.from(deterministicZip(entries).bytes);
  // Central directory headers: signature 0x02014b50; DOS time at +12, date at +14, external attributes at +38.
  const modes: number[] = [];
  for (let i = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); i !== -1; i = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 4)) {
    const date = bytes.readUInt16LE(i + 14);
    t.is(1980 + (date >> 9), FIXED_MTIME.getFullYear());
    t.is((date >> 5) & 0x0f, 1);
    t.is(date & 0x1f, 2);
    t.is(bytes.readUInt16LE(i + 12), 0);
    modes.push(bytes.readUInt32LE(i + 38) >>> 16);
  }
  t.deepEqual(modes, [0o100755, 0o100644]);
});

test('refuses the same path twice', (t) => {
  t.throws(() => deterministicZip([entries[0]!, entries[0]!]), { message: /b\.txt is listed twice/ });
});

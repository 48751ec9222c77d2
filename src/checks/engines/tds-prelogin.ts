/** SQL Server's first message (MS-TDS PRELOGIN), kept apart from mssql.ts so that it loads without the driver. */

/** A PRELOGIN packet asking only about encryption (VERSION, ENCRYPTION, INSTOPT, THREADID, MARS). */
export function preloginPacket(): Buffer {
  const options = [
    Buffer.from([0, 0, 0, 0, 0, 0]),
    Buffer.from([0x02]),
    Buffer.from([0]),
    Buffer.alloc(4),
    Buffer.from([0]),
  ];
  const header = Buffer.alloc(options.length * 5 + 1);
  let offset = header.length;
  options.forEach((data, token) => {
    header.writeUInt8(token, token * 5);
    header.writeUInt16BE(offset, token * 5 + 1);
    header.writeUInt16BE(data.length, token * 5 + 3);
    offset += data.length;
  });
  header.writeUInt8(0xff, options.length * 5);
  const payload = Buffer.concat([header, ...options]);
  return Buffer.concat([
    Buffer.from([0x12, 0x01, (payload.length + 8) >> 8, (payload.length + 8) & 0xff, 0, 0, 1, 0]),
    payload,
  ]);
}

/** A TDS response packet header (type 0x04, a sane length): what only a TDS server sends back to PRELOGIN. */
export const isTdsResponse = (data: Buffer) =>
  data.length >= 8 && data[0] === 0x04 && data.readUInt16BE(2) >= 8 && data.readUInt16BE(2) <= 32_768;

/** The whole first packet has arrived (its length is in the header). */
export const tdsPacketComplete = (data: Buffer) => data.length >= 8 && data.length >= data.readUInt16BE(2);

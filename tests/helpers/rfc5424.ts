// A strict RFC 5424 parser for tests: every field checked against the ABNF of §6, structured
// data unescaped per §6.3.3. Throws on anything that does not conform.

export type Rfc5424Message = {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: Array<{ id: string; params: Array<[name: string, value: string]> }>;
  /** MSG without the BOM; `bom` says whether it had one. */
  msg: string;
  bom: boolean;
};

const SD_NAME = /^[\x21-\x7e]{1,32}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

function headerToken(text: string, at: number, max: number, what: string): [string, number] {
  const end = text.indexOf(" ", at);
  if (end < 0) throw new Error(`${what}: no SP after it`);
  const token = text.slice(at, end);
  if (!/^[\x21-\x7e]+$/.test(token) || token.length > max) throw new Error(`${what}: not 1–${max} PRINTUSASCII: ${JSON.stringify(token)}`);
  return [token, end + 1];
}

function sdName(text: string, at: number, stops: string, what: string): [string, number] {
  let end = at;
  while (end < text.length && !stops.includes(text[end]!)) end++;
  const name = text.slice(at, end);
  if (!SD_NAME.test(name) || /[= \]"]/.test(name)) throw new Error(`${what}: bad SD-NAME ${JSON.stringify(name)}`);
  return [name, end];
}

export function parseRfc5424(line: string): Rfc5424Message {
  const head = /^<(\d{1,3})>([1-9]\d{0,2}) /.exec(line);
  if (!head) throw new Error("no <PRI>VERSION");
  const pri = Number(head[1]);
  if (pri > 191 || (head[1]!.length > 1 && head[1]!.startsWith("0"))) throw new Error(`bad PRI ${head[1]}`);
  let at = head[0].length;
  const field = (max: number, what: string): string => {
    const [token, next] = headerToken(line, at, max, what);
    at = next;
    return token;
  };
  const timestamp = field(64, "TIMESTAMP");
  if (timestamp !== "-" && !TIMESTAMP.test(timestamp)) throw new Error(`bad TIMESTAMP ${timestamp}`);
  const hostname = field(255, "HOSTNAME");
  const appName = field(48, "APP-NAME");
  const procId = field(128, "PROCID");
  const msgId = field(32, "MSGID");

  const structuredData: Rfc5424Message["structuredData"] = [];
  if (line[at] === "-") at++;
  else {
    while (line[at] === "[") {
      let id: string;
      [id, at] = sdName(line, at + 1, " ]", "SD-ID");
      const params: Array<[string, string]> = [];
      while (line[at] === " ") {
        let name: string;
        [name, at] = sdName(line, at + 1, "=", "PARAM-NAME");
        if (line.slice(at, at + 2) !== '="') throw new Error(`PARAM ${name}: no ="`);
        at += 2;
        let value = "";
        for (;;) {
          const c = line[at];
          if (c === undefined) throw new Error(`PARAM ${name}: unterminated value`);
          if (c === "\\" && ['"', "\\", "]"].includes(line[at + 1]!)) {
            value += line[at + 1];
            at += 2;
          } else if (c === '"') {
            at++;
            break;
          } else if (c === "]") {
            throw new Error(`PARAM ${name}: unescaped ] in value`);
          } else {
            value += c;
            at++;
          }
        }
        params.push([name, value]);
      }
      if (line[at] !== "]") throw new Error(`SD-ELEMENT ${id}: no closing ]`);
      at++;
      structuredData.push({ id, params });
    }
    if (structuredData.length === 0) throw new Error("STRUCTURED-DATA: neither - nor [");
  }
  let msg = "";
  if (at < line.length) {
    if (line[at] !== " ") throw new Error("no SP before MSG");
    msg = line.slice(at + 1);
  }
  const bom = msg.startsWith("\uFEFF");
  return {
    pri,
    version: Number(head[2]),
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    structuredData,
    msg: bom ? msg.slice(1) : msg,
    bom,
  };
}

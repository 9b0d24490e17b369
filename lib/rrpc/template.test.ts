import { describe, expect, it } from "vitest";
import { renderTemplate, templateErrors, type CommandParam, type Template } from "./template";

const t = (payload: string, params: CommandParam[] = [], encoding: "utf8" | "base64" = "utf8"): Template => ({ payload, params, encoding });
const num = (name: string, extra: Partial<CommandParam> = {}): CommandParam => ({ name, type: "number", ...extra });
const str = (name: string, extra: Partial<CommandParam> = {}): CommandParam => ({ name, type: "string", ...extra });

describe("renderTemplate", () => {
  const cases: [string, Template, Record<string, unknown>, string][] = [
    ["the issue's example", t(`{"cmd":"set","t":{{t}}}`, [num("t")]), { t: 21 }, `{"cmd":"set","t":21}`],
    ["a decimal number", t(`{"t":{{t}}}`, [num("t")]), { t: -0.5 }, `{"t":-0.5}`],
    ["an integer", t(`{"n":{{n}}}`, [{ name: "n", type: "integer" }]), { n: 7 }, `{"n":7}`],
    ["a boolean", t(`{"on":{{on}}}`, [{ name: "on", type: "boolean" }]), { on: false }, `{"on":false}`],
    ["a string inside a JSON string is escaped", t(`{"msg":"{{m}}"}`, [str("m")]), { m: 'say "hi"\n\\' }, `{"msg":"say \\"hi\\"\\n\\\\"}`],
    ["a string inside a longer JSON string", t(`{"msg":"x={{m}}!"}`, [str("m")]), { m: "a\tb" }, `{"msg":"x=a\\tb!"}`],
    ["a string outside a string literal goes in as text", t(`{"v":{{raw}}}`, [str("raw")]), { raw: "[1,2]" }, `{"v":[1,2]}`],
    ["a quote escaped before the placeholder keeps the string open", t(`{"a":"\\"{{m}}"}`, [str("m")]), { m: '"' }, `{"a":"\\"\\""}`],
    [
      "a string enum inside quotes",
      t(`{"mode":"{{m}}"}`, [{ name: "m", type: "enum", values: ["eco", "boost"] }]),
      { m: "boost" },
      `{"mode":"boost"}`,
    ],
    ["a number enum outside quotes", t(`{"fan":{{f}}}`, [{ name: "f", type: "enum", values: [1, 2, 3] }]), { f: 2 }, `{"fan":2}`],
    ["a default fills in", t(`{"t":{{t}}}`, [num("t", { default: 20 })]), {}, `{"t":20}`],
    ["an optional value left out is null in JSON", t(`{"t":{{t}}}`, [num("t", { required: false })]), {}, `{"t":null}`],
    ["an optional string left out is empty", t(`{"s":"{{s}}"}`, [str("s", { required: false })]), {}, `{"s":""}`],
    ["plain text is not escaped", t(`reboot {{who}} "now"`, [str("who")]), { who: 'a"b' }, `reboot a"b "now"`],
    ["spaces inside braces and repeats", t(`{"a":{{ x }},"b":{{x}}}`, [num("x")]), { x: 1 }, `{"a":1,"b":1}`],
    ["a template without parameters", t(`{"cmd":"status"}`), {}, `{"cmd":"status"}`],
  ];
  it.each(cases)("%s", (_name, template, values, want) => {
    const r = renderTemplate(template, values);
    expect(r).toMatchObject({ ok: true, payload: want });
    if (r.ok && /^\s*[{[]/.test(want)) expect(() => JSON.parse(r.payload)).not.toThrow();
  });

  const refusals: [string, Template, Record<string, unknown>, { field: string; message: RegExp }[]][] = [
    ["a missing parameter", t(`{"t":{{t}}}`, [num("t")]), {}, [{ field: "params.t", message: /required/ }]],
    ["a mistyped number", t(`{"t":{{t}}}`, [num("t")]), { t: "21" }, [{ field: "params.t", message: /a number/ }]],
    ["not finite", t(`{"t":{{t}}}`, [num("t")]), { t: Infinity }, [{ field: "params.t", message: /a number/ }]],
    ["below min", t(`{"t":{{t}}}`, [num("t", { min: 16, max: 30 })]), { t: 12 }, [{ field: "params.t", message: /at least 16/ }]],
    ["above max", t(`{"t":{{t}}}`, [num("t", { min: 16, max: 30 })]), { t: 31 }, [{ field: "params.t", message: /at most 30/ }]],
    ["a fraction for an integer", t(`{"n":{{n}}}`, [{ name: "n", type: "integer" }]), { n: 1.5 }, [{ field: "params.n", message: /integer/ }]],
    ["a string for a boolean", t(`{"b":{{b}}}`, [{ name: "b", type: "boolean" }]), { b: "true" }, [{ field: "params.b", message: /true or false/ }]],
    [
      "a value outside the enum",
      t(`{"m":"{{m}}"}`, [{ name: "m", type: "enum", values: ["eco"] }]),
      { m: "turbo" },
      [{ field: "params.m", message: /one of "eco"/ }],
    ],
    ["an unknown parameter", t(`{"t":{{t}}}`, [num("t")]), { t: 1, x: 2 }, [{ field: "params.x", message: /not a parameter/ }]],
    ["a string that breaks the JSON", t(`{"v":{{raw}}}`, [str("raw")]), { raw: "{oops" }, [{ field: "payload", message: /renders invalid JSON/ }]],
  ];
  it.each(refusals)("refuses %s with its field", (_name, template, values, fields) => {
    const r = renderTemplate(template, values);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.fields).toEqual(fields.map((f) => ({ field: f.field, message: expect.stringMatching(f.message) })));
  });
});

describe("templateErrors", () => {
  it("accepts a well-formed command", () => {
    expect(templateErrors(t(`{"cmd":"set","t":{{t}},"mode":"{{m}}"}`, [num("t"), { name: "m", type: "enum", values: ["a"] }]))).toEqual([]);
  });

  const bad: [string, Template, string][] = [
    ["an undeclared placeholder", t(`{"t":{{t}}}`), "payload"],
    ["an unused parameter", t(`{"t":1}`, [num("t")]), "params.0.name"],
    ["a duplicate name", t(`{"t":{{t}}}`, [num("t"), num("t")]), "params.1.name"],
    ["a bad name", t(`{{1t}}`, [num("1t")]), "params.0.name"],
    ["an enum without values", t(`{{e}}`, [{ name: "e", type: "enum" }]), "params.0.values"],
    ["values on a number", t(`{{n}}`, [num("n", { values: [1] })]), "params.0.values"],
    ["bounds on a string", t(`{{s}}`, [str("s", { min: 1 })]), "params.0.min"],
    ["min above max", t(`{{n}}`, [num("n", { min: 5, max: 1 })]), "params.0.max"],
    ["a default out of range", t(`{{n}}`, [num("n", { max: 1, default: 5 })]), "params.0.default"],
    ["a JSON template that cannot render JSON", t(`{"t": {{t}} }}`, [num("t")]), "payload"],
    ["parameters on a base64 payload", t(`AAEC`, [num("t")], "base64"), "params"],
  ];
  it.each(bad)("refuses %s", (_name, template, field) => {
    expect(templateErrors(template).map((e) => e.field)).toContain(field);
  });
});

// The chart renderer's own contract: Go text/template + Helm semantics for the supported subset
// (expected outputs are what `helm template` prints for the same input), and a loud refusal of
// everything outside it, so the chart cannot drift into features the chart test would misrender.
import { describe, expect, it } from 'vitest';
import { mergeValues, MissingValueError, parseFakeCertificate, renderTemplate, UnsupportedTemplateFeatureError } from './gotemplate.ts';

const ctx = {
  Values: { name: 'uclh', port: 8080, on: true, off: false, empty: [], list: ['a', 'b'], map: { z: 1, a: { b: 'x' } }, blank: '' },
  Release: { Namespace: 'sde-system' },
};

describe('supported features', () => {
  it.each([
    ['field paths', 'ns={{ .Release.Namespace }} site={{ .Values.name }}', 'ns=sde-system site=uclh'],
    ['numbers print as integers', 'port: {{ .Values.port }}', 'port: 8080'],
    ['quote', '{{ .Values.name | quote }} {{ .Values.port | quote }}', '"uclh" "8080"'],
    ['left trim eats every preceding space and newline', 'a:\n  \n  {{- .Values.name }}', 'a:uclh'],
    ['right trim eats following whitespace', '{{ .Values.name -}}  \n  b', 'uclhb'],
    ['if true', '{{- if .Values.on }}yes{{- end }}', 'yes'],
    ['if false with else', '{{ if .Values.off }}yes{{ else }}no{{ end }}', 'no'],
    ['empty list and empty string are false', '{{ if .Values.empty }}x{{ end }}{{ if .Values.blank }}y{{ end }}-', '-'],
    ['range rebinds the dot; $ is the root', '{{ range .Values.list }}[{{ . }}@{{ $.Values.name }}]{{ end }}', '[a@uclh][b@uclh]'],
    ['toYaml sorts keys and drops the final newline; nindent indents every line', 'm:{{ .Values.map | toYaml | nindent 2 }}', 'm:\n  a:\n    b: x\n  z: 1'],
    ['function call with the argument first', '{{ toYaml .Values.list }}', '- a\n- b'],
    ['comments vanish', 'a{{/* why */}}b{{- /* trimmed */ -}} c', 'abc'],
    ['a variable, declared and printed', '{{- $n := .Values.name }}[{{ $n }}]', '[uclh]'],
    ['a variable assigned in an if branch keeps the value after it', '{{- $n := "a" }}{{ if .Values.on }}{{ $n = .Values.name }}{{ end }}{{ $n }}', 'uclh'],
    ['a variable field path', '{{- $m := .Values.map }}{{ $m.a.b }}', 'x'],
    ['a variable in a range body, per item', '{{ range .Values.list }}{{ $i := . }}{{ $i }}{{ end }}', 'ab'],
    ['printf with %s', '{{ printf "svc.%s.svc" .Release.Namespace }}', 'svc.sde-system.svc'],
    ['b64enc', '{{ "hello" | b64enc }}', 'aGVsbG8='],
    ['list, as toYaml shows it', '{{ list .Values.name "b" | toYaml }}', '- uclh\n- b'],
  ])('%s', (_name, source, expected) => {
    expect(renderTemplate(source, ctx)).toBe(expected);
  });
});

describe('genCA and genSignedCert', () => {
  const source = '{{- $ca := genCA "test-ca" 3650 }}{{- $names := list "a.svc" "b.svc" }}{{- $cert := genSignedCert "a.svc" nil $names 730 $ca }}{{ $ca.Cert | b64enc }}|{{ $cert.Cert | b64enc }}|{{ $cert.Key | b64enc }}';
  const decode = (text: string) => text.split('|').map((part) => Buffer.from(part, 'base64').toString('utf8'));

  it('make clearly fake PEM placeholders naming what was asked and the CA of the same render that signed it', () => {
    const [ca = '', cert = '', key = ''] = decode(renderTemplate(source, ctx));
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----\nFAKE, NOT A CERTIFICATE/);
    expect(key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\nFAKE, NOT A CERTIFICATE .* key of certificate 2\n-----END RSA PRIVATE KEY-----\n$/);
    expect(parseFakeCertificate(ca)).toEqual({ id: 'CA 1', cn: 'test-ca', days: 3650, dns: [], ips: [], issuer: 'CA 1' });
    expect(parseFakeCertificate(cert)).toEqual({ id: 'certificate 2', cn: 'a.svc', days: 730, dns: ['a.svc', 'b.svc'], ips: [], issuer: 'CA 1' });
  });

  it('are deterministic: the same template renders the same text', () => {
    expect(renderTemplate(source, ctx)).toBe(renderTemplate(source, ctx));
  });

  it('refuse a certificate signed by anything but a CA of the same render', () => {
    expect(() => renderTemplate('{{ $c := genSignedCert "a" nil nil 1 .Values.map }}', ctx)).toThrow('genSignedCert needs a CA made by genCA in the same render');
    expect(() => parseFakeCertificate('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')).toThrow('expected a placeholder certificate');
  });
});

describe('refused features', () => {
  it.each([
    ['with', '{{ with .Values.map }}{{ .z }}{{ end }}'],
    ['include', '{{ include "sde.labels" . }}'],
    ['define', '{{ define "x" }}y{{ end }}'],
    ['default', '{{ .Values.name | default "x" }}'],
    ['else if', '{{ if .Values.on }}a{{ else if .Values.off }}b{{ end }}'],
    ['a variable declared in an if', '{{ if $x := .Values.name }}{{ end }}'],
    ['range with variables', '{{ range $i, $e := .Values.list }}{{ end }}'],
    ['printf with another verb', '{{ printf "%d" .Values.port }}'],
    ['printf with a missing argument', '{{ printf "%s.%s" .Values.name }}'],
    ['nil as a command', '{{ nil }}'],
    ['parentheses', '{{ quote (.Values.name) }}'],
    ['printing a map', '{{ .Values.map }}'],
    ['an unclosed if', '{{ if .Values.on }}a'],
    ['a stray end', 'a{{ end }}'],
  ])('%s', (_name, source) => {
    expect(() => renderTemplate(source, ctx)).toThrow(UnsupportedTemplateFeatureError);
  });

  it('fails on a value that does not exist instead of printing nothing', () => {
    expect(() => renderTemplate('{{ .Values.nmae }}', ctx)).toThrow(MissingValueError);
    expect(() => renderTemplate('{{ .Values.map.a.c }}', ctx)).toThrow('.Values.map.a.c has no value');
  });

  it('fails on a variable used where it is not defined: never declared, assigned before declaring, or after its if ends', () => {
    expect(() => renderTemplate('{{ $nope }}', ctx)).toThrow('variable $nope is not defined here');
    expect(() => renderTemplate('{{ $n = "a" }}', ctx)).toThrow(MissingValueError);
    expect(() => renderTemplate('{{ if .Values.on }}{{ $n := "a" }}{{ end }}{{ $n }}', ctx)).toThrow('variable $n is not defined here');
  });
});

describe('value merging', () => {
  it('merges maps key by key and replaces lists and scalars, as helm -f does', () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, e: true })).toEqual({ a: { b: 1, c: [3] }, d: 'x', e: true });
  });
});

// The chart renderer's own contract: Go text/template + Helm semantics for the supported subset
// (expected outputs are what `helm template` prints for the same input), and a loud refusal of
// everything outside it, so the chart cannot drift into features the chart test would misrender.
import { describe, expect, it } from 'vitest';
import { mergeValues, MissingValueError, renderTemplate, UnsupportedTemplateFeatureError } from './gotemplate.ts';

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
  ])('%s', (_name, source, expected) => {
    expect(renderTemplate(source, ctx)).toBe(expected);
  });
});

describe('refused features', () => {
  it.each([
    ['with', '{{ with .Values.map }}{{ .z }}{{ end }}'],
    ['include', '{{ include "sde.labels" . }}'],
    ['define', '{{ define "x" }}y{{ end }}'],
    ['default', '{{ .Values.name | default "x" }}'],
    ['else if', '{{ if .Values.on }}a{{ else if .Values.off }}b{{ end }}'],
    ['variables', '{{ $x := .Values.name }}'],
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
});

describe('value merging', () => {
  it('merges maps key by key and replaces lists and scalars, as helm -f does', () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, e: true })).toEqual({ a: { b: 1, c: [3] }, d: 'x', e: true });
  });
});

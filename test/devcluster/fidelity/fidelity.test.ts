// The devcluster stores what a real API server stores. Every object of objects.yaml (the
// operator's rendering of the examples, and one zero-value probe per kind) is server-side applied
// with dryRun=All, and the answer must equal what a 1.23 server answered to the same request
// (recorded.json, written by record.ts): defaults, unstored zero values, generation, status and
// the applier's managedFields. Re-record after changing objects.yaml.
import { describe, expect, it } from 'vitest';
import { dryRunApply, fidelityObjects } from './dry-run.ts';
import type { Answer } from './dry-run.ts';
import { devclusterAnswers, readRecording } from './recording.ts';

const recorded = readRecording<Answer>('recorded.json');
const answers = devclusterAnswers(dryRunApply);

describe(`the devcluster stores objects as ${recorded.server} does`, () => {
  it('has a recorded answer for every object sent', () => {
    expect(recorded.answers.map((a) => `${a.kind}/${a.name}`)).toEqual(fidelityObjects().map((o) => `${o.kind ?? ''}/${o.metadata?.name ?? ''}`));
  });

  it.each(recorded.answers.map((answer, index) => ({ answer, index, what: `${answer.kind}/${answer.name}` })))('stores $what as recorded', ({ answer, index }) => {
    expect(answers()[index]?.stored).toEqual(answer.stored);
  });
});

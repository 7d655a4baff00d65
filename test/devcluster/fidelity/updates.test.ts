// The devcluster refuses the updates a real API server refuses, with the same answer. Every
// change of updates.yaml is sent (dry run) as an update, each patch type, a server-side apply and
// to the status subresource, and the answer must equal what a 1.23 server answered to the same
// request (recorded-updates.json, written by record-updates.ts): the code, and for a refusal its
// reason, message and causes. Re-record after changing updates.yaml.
import { describe, expect, it } from 'vitest';
import { devclusterAnswers, readRecording } from './recording.ts';
import { sendUpdates, updateSubjects, verbsFor } from './updates.ts';
import type { UpdateAnswer } from './updates.ts';

const recorded = readRecording<UpdateAnswer>('recorded-updates.json');
const answers = devclusterAnswers(sendUpdates);

describe(`the devcluster refuses the updates ${recorded.server} refuses`, () => {
  it('has a recorded answer for every change sent', () => {
    const sent = updateSubjects().flatMap((s) => Object.keys(s.changes).flatMap((change) => verbsFor(s).map((verb) => `${s.subject}/${change}/${verb}`)));
    expect(recorded.answers.map((a) => `${a.subject}/${a.change}/${a.verb}`)).toEqual(sent);
  });

  it.each(recorded.answers.map((answer, index) => ({ answer, index, what: `${answer.subject}: ${answer.change} by ${answer.verb}` })))('answers $what as recorded', ({ answer, index }) => {
    expect(answers()[index]).toEqual(answer);
  });
});

// What a 1.23 API server refuses in an update of a batch/v1 Job (ValidateJob and
// ValidateJobUpdate, checked on 1.23): `completions`, `selector`, `completionMode` and the pod
// template are fixed at creation; parallelism, activeDeadlineSeconds, suspend, backoffLimit and
// ttlSecondsAfterFinished may change. A Job that is suspended and has never started may still
// change its template's labels, annotations, node selector, tolerations and node affinity
// (JobMutableNodeSchedulingDirectives, beta and on in 1.23). The selector must select the
// template's labels and, unless `manualSelector` is set, stay the generated `controller-uid`/
// `job-name` one, with those labels on the template.
import type { StatusCause } from '../store/errors.ts';
import { asObject, clone, isPlainObject } from '../store/objects.ts';
import { labelSelectorMatches } from '../../api/selectors.ts';
import type { LabelSelector } from '../../api/selectors.ts';
import type { KubeObject } from '../store/types.ts';
import { FIELD_IMMUTABLE, fieldInvalid, fieldRequired } from './field-errors.ts';
import { goDump, goLabelSelector, goScalar, goStringMap } from './go-values.ts';
import { semanticEqual } from './semantic-equal.ts';

type Obj = Record<string, unknown>;

// ValidateGeneratedSelector: the labels the API server generated at creation must still be there.
function generatedSelectorErrors(job: KubeObject, spec: Obj): StatusCause[] {
  if (spec.manualSelector === true || !isPlainObject(spec.selector)) return [];
  const expected: Record<string, string> = { 'controller-uid': job.metadata.uid ?? '', 'job-name': job.metadata.name };
  const labels = asObject(asObject(asObject(spec.template).metadata).labels);
  const errors: StatusCause[] = [];
  for (const [key, value] of Object.entries(expected)) {
    const field = `spec.template.metadata.labels[${key}]`;
    if (!(key in labels)) errors.push(fieldRequired(field, `must be '${value}'`));
    else if (labels[key] !== value) errors.push(fieldInvalid(field, goStringMap(labels), `must be '${value}'`));
  }
  if (!labelSelectorMatches(spec.selector as LabelSelector, expected)) errors.push(fieldInvalid('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
  return errors;
}

// ValidateJobSpec on the selector: there is one, and it selects the template's labels.
function selectorErrors(spec: Obj): StatusCause[] {
  const labels = asObject(asObject(spec.template).metadata).labels;
  const errors = isPlainObject(spec.selector) ? [] : [fieldRequired('spec.selector')];
  const selects = isPlainObject(spec.selector) && labelSelectorMatches(spec.selector as LabelSelector, asObject(labels) as Record<string, string>);
  if (!selects) errors.push(fieldInvalid('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`'));
  return errors;
}

// The old template with what a suspended, never started Job may change taken from the new one.
function templateToCompare(oldTemplate: Obj, template: Obj, schedulingMutable: boolean): Obj {
  if (!schedulingMutable) return oldTemplate;
  const out = clone(oldTemplate);
  const meta = (out.metadata = { ...asObject(out.metadata) }) as Obj;
  const newMeta = asObject(template.metadata);
  meta.labels = newMeta.labels;
  meta.annotations = newMeta.annotations;
  const podSpec = (out.spec = { ...asObject(out.spec) }) as Obj;
  const newPodSpec = asObject(template.spec);
  podSpec.nodeSelector = newPodSpec.nodeSelector;
  podSpec.tolerations = newPodSpec.tolerations;
  // Node affinity may change, be added or be dropped; pod (anti-)affinity may not.
  const oldAffinity = isPlainObject(podSpec.affinity) ? { ...podSpec.affinity } : undefined;
  const newAffinity = isPlainObject(newPodSpec.affinity) ? newPodSpec.affinity : undefined;
  if (newAffinity === undefined && oldAffinity !== undefined) {
    delete oldAffinity.nodeAffinity;
    podSpec.affinity = Object.keys(oldAffinity).length === 0 ? undefined : oldAffinity;
  } else if (newAffinity !== undefined) {
    podSpec.affinity = { ...(oldAffinity ?? {}), nodeAffinity: newAffinity.nodeAffinity };
  }
  return out;
}

/** The causes a 1.23 server gives for updating `old` to `job`; empty when it allows the update. */
export function jobUpdateErrors(job: KubeObject, old: KubeObject): StatusCause[] {
  const spec = asObject(job.spec);
  const oldSpec = asObject(old.spec);
  // The real strategy validates the new spec twice (ValidateJob, then again in ValidateJobUpdate),
  // so its causes come twice; the message names each once.
  const errors = [...generatedSelectorErrors(job, spec), ...selectorErrors(spec), ...selectorErrors(spec)];
  if (!semanticEqual(spec.completions, oldSpec.completions)) errors.push(fieldInvalid('spec.completions', goScalar(spec.completions), FIELD_IMMUTABLE));
  if (!semanticEqual(spec.selector, oldSpec.selector)) errors.push(fieldInvalid('spec.selector', goLabelSelector(spec.selector), FIELD_IMMUTABLE));
  const neverStarted = oldSpec.suspend === true && asObject(old.status).startTime === undefined;
  if (!semanticEqual(asObject(spec.template), templateToCompare(asObject(oldSpec.template), asObject(spec.template), neverStarted))) {
    errors.push(fieldInvalid('spec.template', goDump('core.PodTemplateSpec'), FIELD_IMMUTABLE));
  }
  if (!semanticEqual(spec.completionMode, oldSpec.completionMode)) errors.push(fieldInvalid('spec.completionMode', goScalar(spec.completionMode), FIELD_IMMUTABLE));
  return errors;
}

// Reading the previous status: the VPG's status as read may have any shape, so each field is kept
// only if it matches the schema and the rest is ignored. The previous figures count only for the
// same stream: a changed placement.streamId starts them afresh.
import type { z } from 'zod';
import { VPGStatus } from '../../../crds/vpg.ts';
import type { Condition } from '../../../runtime/index.ts';

/** The previous status, each field kept only if it matches the schema. */
export interface Previous {
  status: VPGStatus;
  conditions: Condition[];
  /** The previous figures belong to the same stream (placement.streamId unchanged). */
  same: boolean;
}

function parsed<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readPrevious(previous: unknown, streamId: string | undefined): Previous {
  const o = isRecord(previous) ? previous : {};
  const shape = VPGStatus.shape;
  const conditions = (parsed(shape.conditions, o['conditions']) ?? []).map(toCondition);
  const status = defined<VPGStatus>({
    observedGeneration: parsed(shape.observedGeneration, o['observedGeneration']),
    phase: parsed(shape.phase, o['phase']),
    substatus: parsed(shape.substatus, o['substatus']),
    rpoSeconds: parsed(shape.rpoSeconds, o['rpoSeconds']),
    placement: parsed(shape.placement, o['placement']),
    journal: parsed(shape.journal, o['journal']),
    checkpoints: parsed(shape.checkpoints, o['checkpoints']),
    sync: parsed(shape.sync, o['sync']),
    volumes: parsed(shape.volumes, o['volumes']),
    sizing: parsed(shape.sizing, o['sizing']),
    conditions: conditions.length === 0 ? undefined : conditions,
    lastTest: parsed(shape.lastTest, o['lastTest']),
    failedOver: parsed(shape.failedOver, o['failedOver']),
    operation: parsed(shape.operation, o['operation']),
    history: parsed(shape.history, o['history']),
  });
  return { status, conditions, same: status.placement?.streamId === streamId };
}

function toCondition(c: NonNullable<VPGStatus['conditions']>[number]): Condition {
  const { observedGeneration, ...rest } = c;
  return observedGeneration === undefined ? rest : { ...rest, observedGeneration };
}

/** A shallow copy without undefined-valued keys: the API server stores none, so a status with one would never compare equal. */
export function defined<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

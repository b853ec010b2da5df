import { rejected, type InvalidCase, type Patch } from './table.ts';

export const serviceProfileBase: Patch = {
  apiVersion: 'zcsp.io/v1alpha1',
  kind: 'ServiceProfile',
  metadata: { name: 'base' },
  spec: {
    rpoAlertSeconds: 300,
    journal: { historyHours: 24, hardLimit: { type: 'Size', size: '100Gi' }, warningThreshold: { type: 'Size', size: '75Gi' } },
  },
};

const journal = (j: Patch): Patch => ({ spec: { journal: j } });

export const serviceProfileCases: InvalidCase[] = rejected('ServiceProfile', [
  ['required', 'no spec at all', { spec: null }, 'spec'],
  ['type', 'rpoAlertSeconds is a string', { spec: { rpoAlertSeconds: '300' } }, 'spec.rpoAlertSeconds'],
  ['type', 'rpoAlertSeconds is a fraction', { spec: { rpoAlertSeconds: 1.5 } }, 'spec.rpoAlertSeconds'],
  ['range', 'rpoAlertSeconds below 10', { spec: { rpoAlertSeconds: 5 } }, 'spec.rpoAlertSeconds'],
  ['range', 'rpoAlertSeconds above a day', { spec: { rpoAlertSeconds: 86401 } }, 'spec.rpoAlertSeconds'],
  ['range', 'historyHours 0', journal({ historyHours: 0 }), 'spec.journal.historyHours'],
  ['range', 'historyHours above 720', journal({ historyHours: 721 }), 'spec.journal.historyHours'],
  ['type', 'historyHours as a duration string', journal({ historyHours: '24h' }), 'spec.journal.historyHours'],
  ['type', 'journal is a list', { spec: { journal: [] } }, 'spec.journal'],
  ['range', 'hardLimit type is not Unlimited, Size or Percent', journal({ hardLimit: { type: 'Gigabytes' } }), 'spec.journal.hardLimit.type'],
  ['required', 'hardLimit without a type', journal({ hardLimit: { type: null } }), 'spec.journal.hardLimit.type'],
  ['required', 'hardLimit type Size without a size', journal({ hardLimit: { size: null } }), 'spec.journal.hardLimit.size'],
  ['conflict', 'hardLimit type Percent with a size', journal({ hardLimit: { type: 'Percent', percent: 50 } }), 'spec.journal.hardLimit.size'],
  ['conflict', 'hardLimit Unlimited with a percent', journal({ hardLimit: { type: 'Unlimited', size: null, percent: 50 }, warningThreshold: null }), 'spec.journal.hardLimit.percent'],
  ['format', 'hardLimit size negative', journal({ hardLimit: { size: '-5Gi' } }), 'spec.journal.hardLimit.size'],
  ['format', 'hardLimit size in GB with a space', journal({ hardLimit: { size: '100 GB' } }), 'spec.journal.hardLimit.size'],
  ['range', 'hardLimit size zero', journal({ hardLimit: { size: '0' }, warningThreshold: null }), 'spec.journal.hardLimit.size'],
  ['type', 'hardLimit size a boolean', journal({ hardLimit: { size: true } }), 'spec.journal.hardLimit.size'],
  ['range', 'hardLimit percent 0', journal({ hardLimit: { type: 'Percent', size: null, percent: 0 }, warningThreshold: null }), 'spec.journal.hardLimit.percent'],
  ['range', 'hardLimit percent above 1000', journal({ hardLimit: { type: 'Percent', size: null, percent: 1001 }, warningThreshold: null }), 'spec.journal.hardLimit.percent'],
  ['conflict', 'warning threshold equal to the hard limit', journal({ warningThreshold: { size: '100Gi' } }), 'spec.journal.warningThreshold.size'],
  ['conflict', 'warning threshold above the hard limit', journal({ warningThreshold: { size: '200Gi' } }), 'spec.journal.warningThreshold.size'],
  ['conflict', 'warning threshold equal to the hard limit in other units', journal({ hardLimit: { size: '1Gi' }, warningThreshold: { size: 1073741824 } }), 'spec.journal.warningThreshold.size'],
  ['conflict', 'warning percent at the hard limit percent', journal({ hardLimit: { type: 'Percent', size: null, percent: 50 }, warningThreshold: { type: 'Percent', size: null, percent: 50 } }), 'spec.journal.warningThreshold.percent'],
  ['conflict', 'warning as a percent of a size hard limit', journal({ warningThreshold: { type: 'Percent', size: null, percent: 75 } }), 'spec.journal.warningThreshold.type'],
  ['range', 'testReminderMonths 2', { spec: { testReminderMonths: 2 } }, 'spec.testReminderMonths'],
  ['type', 'wanCompression "yes"', { spec: { wanCompression: 'yes' } }, 'spec.wanCompression'],
  ['range', 'priority Urgent', { spec: { priority: 'Urgent' } }, 'spec.priority'],
  ['range', 'checkpointIntervalSeconds 0', { spec: { checkpointIntervalSeconds: 0 } }, 'spec.checkpointIntervalSeconds'],
  ['range', 'checkpointIntervalSeconds above 300', { spec: { checkpointIntervalSeconds: 301 } }, 'spec.checkpointIntervalSeconds'],
  ['conflict', 'RPO alert not above the checkpoint interval', { spec: { rpoAlertSeconds: 30, checkpointIntervalSeconds: 30 } }, 'spec.rpoAlertSeconds'],
  ['range', 'description longer than 1024', { spec: { description: 'x'.repeat(1025) } }, 'spec.description'],
  ['unknown', 'misspelt rpoAlertSecond', { spec: { rpoAlertSecond: 300 } }, 'spec.rpoAlertSecond'],
  ['unknown', 'unknown journal field', journal({ history: 24 }), 'spec.journal.history'],
]);

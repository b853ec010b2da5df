// Every controller `zcsp manager` runs, in one list.
import type { ControllerDefinition } from '../runtime/index.ts';
import type { OperatorConfig } from './config.ts';
import { serviceProfileController } from './service-profile/index.ts';
import { siteController } from './site/index.ts';
import { vpgController } from './vpg/index.ts';
import { zccController } from './zcc/index.ts';
import { zorgController } from './zorg/index.ts';

export function operatorControllers(config: OperatorConfig): ControllerDefinition[] {
  return [
    zorgController(config),
    serviceProfileController(config),
    siteController(config),
    zccController(config),
    vpgController(config),
  ] as ControllerDefinition[];
}

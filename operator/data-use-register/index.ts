// The data use register as one piece of the operator: the controller that keeps the records and
// the public listener that serves them.
import type { SiteConfig } from '../../api/siteconfig.ts';
import type { Manager } from '../runtime/index.ts';
import { recordFromConfigMap, registerRecordType } from './configmap.ts';
import { registerController } from './controller.ts';
import { publishRegister } from './publish.ts';
import { REGISTER_PORT, RegisterServer } from './server.ts';

export { REGISTER_PORT } from './server.ts';

/** Name of the register's listener in its manager: `manager.portOf(REGISTER_LISTENER)`. */
export const REGISTER_LISTENER = 'register';

/** Where the register is kept and served. */
export interface RegisterOptions {
  /** The operator's own namespace: the records live there. */
  namespace: string;
  /** The public listener's port (default {@link REGISTER_PORT}); 0 picks a free one; false keeps the records without serving them. */
  port?: number | false;
  host?: string;
}

/**
 * Adds the register to `manager`: its controller (which writes only while this replica leads)
 * and its listener, which every replica opens and serves from its own cache of the records.
 */
export function addRegister(manager: Manager, site: SiteConfig, options: RegisterOptions, now?: () => Date): void {
  manager.add(registerController({ site, namespace: options.namespace, ...(now ? { now } : {}) }));
  if (options.port === false) return;
  const records = manager.cacheFor(registerRecordType(options.namespace, site.site));
  const server = new RegisterServer({
    port: options.port ?? REGISTER_PORT,
    ...(options.host ? { host: options.host } : {}),
    logger: manager.logger,
    register: () =>
      records.hasSynced
        ? publishRegister(records.list().map(recordFromConfigMap).filter((r) => r !== undefined), site, now?.() ?? new Date())
        : undefined,
  });
  manager.addListener(REGISTER_LISTENER, server);
}

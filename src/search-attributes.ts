// The custom search attributes that let the Temporal UI's workflow list filter syncs by connection and
// stream. A worker registers them at start-up where it may (a self-hosted cluster, the dev server);
// where it may not (Temporal Cloud: an administrator adds them), syncs run without them, because a
// workflow that set an unregistered attribute would fail.
import type { NativeConnection } from '@temporalio/worker';
import { CONNECTION_ATTRIBUTE, STREAM_ATTRIBUTE } from './workflows/search-attributes.ts';

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const KEYWORD = 2;
const NAMES = [CONNECTION_ATTRIBUTE.name, STREAM_ATTRIBUTE.name];

/** Whether both attributes are registered on the namespace now. */
export async function searchAttributesRegistered(
  connection: NativeConnection,
  namespace: string,
): Promise<boolean> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  return NAMES.every((name) => customAttributes?.[name] === KEYWORD);
}

/** Registers what is missing; false (and a warning) when the cluster does not let this worker. */
export async function ensureSearchAttributes(
  connection: NativeConnection,
  namespace: string,
): Promise<boolean> {
  try {
    if (await searchAttributesRegistered(connection, namespace)) return true;
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = NAMES.filter((name) => customAttributes?.[name] === undefined);
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
    });
    return await searchAttributesRegistered(connection, namespace);
  } catch (error) {
    console.warn(
      `search attributes ${NAMES.join(', ')} could not be registered (${(error as Error).message}): syncs run without them; to filter the Temporal UI by connection, add them as Keyword (temporal operator search-attribute create --name ${NAMES[0]} --type Keyword, and the same for ${NAMES[1]})`,
    );
    return false;
  }
}

import { functionEffect } from './functions';

describe('functionEffect', () => {
  it.each<[string[], ReturnType<typeof functionEffect>]>([
    [['count'], 'read'],
    [['lower'], 'read'],
    [['jsonb_build_object'], 'read'],
    [['pg_table_is_visible'], 'read'],
    [['pg_catalog', 'pg_table_is_visible'], 'read'],
    // Users cannot add functions to pg_catalog: any name there that is not known to be risky is a read.
    [['pg_catalog', 'some_future_builtin'], 'read'],
    [['some_future_builtin'], 'write'],
    [['my_func'], 'write'],
    [['public', 'lower'], 'write'],
    [['Lower'], 'write'],
    [['PG_CATALOG', 'lower'], 'write'],
    [['a', 'b', 'c'], 'write'],
    [['nextval'], 'write'],
    [['pg_catalog', 'nextval'], 'write'],
    [['lowrite'], 'write'],
    [['pg_advisory_lock'], 'session'],
    [['pg_catalog', 'pg_try_advisory_xact_lock_shared'], 'session'],
    [['set_config'], 'session'],
    [['pg_read_file'], 'dangerous'],
    [['pg_catalog', 'pg_read_file'], 'dangerous'],
    [['pg_ls_summariesdir'], 'dangerous'],
    [['dblink_connect_u'], 'dangerous'],
    [['pg_terminate_backend'], 'dangerous'],
    [['pg_catalog', 'pg_stat_reset_shared'], 'dangerous'],
    [['pg_catalog', 'pg_create_physical_replication_slot'], 'dangerous'],
    [['public', 'pg_read_file'], 'write'],
  ])('%j → %s', (name, effect) => {
    expect(functionEffect(name)).toBe(effect);
  });
});

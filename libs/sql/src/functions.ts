/**
 * What calling a function may do, judged from its name alone: the gateway sees the text of a
 * statement, not the server's catalog, so anything it does not know is assumed to write.
 */
export type FunctionEffect =
  /** Returns a value and changes nothing. */
  | 'read'
  /** Changes only the session's own state (advisory locks, settings, notifications). */
  | 'session'
  /** Changes data or catalog contents. */
  | 'write'
  /** Reaches server files or programs, other servers, or controls backends and the server. */
  | 'dangerous';

/**
 * Server file and program access, connections to other servers, backend and server control,
 * replication and statistics control. Prefixes cover families whose members keep growing
 * between PostgreSQL releases (pg_ls_*dir, dblink_*, replication slot functions).
 */
const DANGEROUS = new Set([
  'pg_read_file',
  'pg_read_binary_file',
  'pg_stat_file',
  'pg_file_read',
  'pg_logdir_ls',
  'lo_import',
  'lo_export',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_rotate_logfile_old',
  'pg_promote',
  'pg_switch_wal',
  'pg_switch_xlog',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_log_backend_memory_contexts',
  'pg_log_standby_snapshot',
  'pg_replication_slot_advance',
  'pg_sync_replication_slots',
  'pg_import_system_collations',
]);
const DANGEROUS_PREFIXES = [
  'pg_ls_',
  'pg_file_',
  'dblink',
  'pg_backup_',
  'pg_create_',
  'pg_drop_',
  'pg_copy_',
  'pg_replication_origin_',
  'pg_logical_',
  'pg_wal_replay_',
  'pg_stat_reset',
  'binary_upgrade_',
];

/**
 * Built-ins that change data. The *_to_xml family, ts_stat and ts_rewrite run a query given as
 * text, which no classification can see into: they count as writes for the same reason an
 * unknown function does.
 */
const WRITING = new Set([
  'nextval',
  'setval',
  'lo_create',
  'lo_creat',
  'lo_open',
  'lo_unlink',
  'lo_put',
  'lo_from_bytea',
  'lowrite',
  'lo_truncate',
  'lo_truncate64',
  'brin_summarize_new_values',
  'brin_summarize_range',
  'brin_desummarize_range',
  'gin_clean_pending_list',
  'pg_restore_relation_stats',
  'pg_clear_relation_stats',
  'pg_restore_attribute_stats',
  'pg_clear_attribute_stats',
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'table_to_xml',
  'table_to_xmlschema',
  'table_to_xml_and_xmlschema',
  'schema_to_xml',
  'schema_to_xmlschema',
  'schema_to_xml_and_xmlschema',
  'database_to_xml',
  'database_to_xmlschema',
  'database_to_xml_and_xmlschema',
  'ts_stat',
  'ts_rewrite',
]);

const SESSION = new Set(['pg_notify', 'setseed', 'pg_stat_clear_snapshot', 'set_config']);
const SESSION_PREFIXES = ['pg_advisory_', 'pg_try_advisory_'];

/**
 * Read-only built-ins that ordinary queries and psql's describe commands call unqualified.
 * Exact names only: an unqualified name outside pg_catalog resolves through search_path, so a
 * prefix here would also bless a user's function that happens to share it.
 */
const READ_ONLY = new Set(
  [
    // aggregates
    'count sum avg min max array_agg string_agg json_agg jsonb_agg json_agg_strict jsonb_agg_strict',
    'json_object_agg jsonb_object_agg json_object_agg_strict jsonb_object_agg_strict json_object_agg_unique',
    'jsonb_object_agg_unique json_object_agg_unique_strict jsonb_object_agg_unique_strict bool_and bool_or every',
    'bit_and bit_or bit_xor stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop covar_samp',
    'regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy mode',
    'percentile_cont percentile_disc any_value range_agg range_intersect_agg xmlagg',
    // window functions
    'row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value',
    // strings
    'lower upper initcap length char_length character_length octet_length bit_length substr substring',
    'concat concat_ws replace trim btrim ltrim rtrim lpad rpad left right position strpos split_part format',
    'regexp_replace regexp_match regexp_matches regexp_like regexp_count regexp_instr regexp_substr',
    'regexp_split_to_array regexp_split_to_table string_to_array string_to_table repeat reverse translate',
    'starts_with ascii chr to_hex to_bin to_oct to_ascii md5 sha224 sha256 sha384 sha512 crc32 crc32c',
    'encode decode convert convert_from convert_to quote_ident quote_literal quote_nullable overlay',
    'normalize is_normalized unistr casefold parse_ident similar_to_escape like_escape get_bit get_byte',
    'set_bit set_byte bit_count text varchar bpchar',
    // numbers
    'abs round ceil ceiling floor trunc greatest least random random_normal mod power pow sqrt cbrt exp ln',
    'log log10 sign pi degrees radians div factorial gcd lcm min_scale scale trim_scale width_bucket',
    'acos asin atan atan2 cos cot sin tan sinh cosh tanh asinh acosh atanh acosd asind atand atan2d cosd',
    'cotd sind tand to_number numeric int2 int4 int8 float4 float8 bool',
    // date and time
    'now clock_timestamp statement_timestamp transaction_timestamp timeofday date_trunc date_part extract',
    'date_bin age to_timestamp to_date to_char make_date make_time make_timestamp make_timestamptz',
    'make_interval justify_days justify_hours justify_interval isfinite date_add date_subtract timezone',
    'overlaps date time timestamp timestamptz interval',
    // json and jsonb
    'to_json to_jsonb array_to_json row_to_json json_build_array json_build_object jsonb_build_array',
    'jsonb_build_object json_object jsonb_object json_array_length jsonb_array_length json_each jsonb_each',
    'json_each_text jsonb_each_text json_extract_path jsonb_extract_path json_extract_path_text',
    'jsonb_extract_path_text json_object_keys jsonb_object_keys json_populate_record jsonb_populate_record',
    'jsonb_populate_record_valid json_populate_recordset jsonb_populate_recordset json_to_record',
    'jsonb_to_record json_to_recordset jsonb_to_recordset json_array_elements jsonb_array_elements',
    'json_array_elements_text jsonb_array_elements_text json_typeof jsonb_typeof json_strip_nulls',
    'jsonb_strip_nulls jsonb_set jsonb_set_lax jsonb_insert jsonb_pretty jsonb_path_exists jsonb_path_match',
    'jsonb_path_query jsonb_path_query_array jsonb_path_query_first jsonb_path_exists_tz',
    'jsonb_path_match_tz jsonb_path_query_tz jsonb_path_query_array_tz jsonb_path_query_first_tz',
    // arrays and sets
    'array_append array_cat array_dims array_fill array_length array_lower array_ndims array_position',
    'array_positions array_prepend array_remove array_replace array_reverse array_sample array_shuffle',
    'array_sort array_to_string array_upper cardinality trim_array unnest generate_series',
    'generate_subscripts num_nulls num_nonnulls',
    // ranges
    'isempty lower_inc upper_inc lower_inf upper_inf range_merge multirange int4range int8range numrange',
    'tsrange tstzrange daterange',
    // text search (ts_stat and ts_rewrite run queries given as text: see WRITING)
    'to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank ts_rank_cd',
    'ts_headline setweight strip numnode querytree ts_debug ts_lexize ts_parse ts_token_type',
    'get_current_ts_config array_to_tsvector tsvector_to_array ts_delete ts_filter',
    // xml, network, uuid
    'xpath xpath_exists xml_is_well_formed xml_is_well_formed_document xml_is_well_formed_content',
    'host hostmask masklen netmask network set_masklen abbrev broadcast family inet_merge inet_same_family',
    'gen_random_uuid uuidv4 uuidv7 uuid_extract_timestamp uuid_extract_version',
    // session and server information
    'pg_sleep pg_sleep_for pg_sleep_until version current_database current_schema current_schemas',
    'current_setting current_query inet_client_addr inet_client_port inet_server_addr inet_server_port',
    'pg_backend_pid pg_blocking_pids pg_safe_snapshot_blocking_pids pg_conf_load_time pg_postmaster_start_time',
    'pg_my_temp_schema pg_is_other_temp_schema pg_jit_available pg_listening_channels',
    'pg_notification_queue_usage pg_trigger_depth pg_is_in_recovery pg_current_wal_lsn',
    'pg_current_wal_insert_lsn pg_current_wal_flush_lsn pg_last_wal_receive_lsn pg_last_wal_replay_lsn',
    'pg_last_xact_replay_timestamp pg_wal_lsn_diff pg_walfile_name txid_current txid_current_if_assigned',
    'txid_current_snapshot txid_snapshot_xmin txid_snapshot_xmax txid_snapshot_xip txid_status',
    'txid_visible_in_snapshot pg_current_xact_id pg_current_xact_id_if_assigned pg_current_snapshot',
    'pg_snapshot_xmin pg_snapshot_xmax pg_snapshot_xip pg_visible_in_snapshot pg_xact_status',
    'pg_xact_commit_timestamp pg_last_committed_xact currval lastval pg_sequence_last_value',
    'pg_sequence_parameters',
    // catalog helpers used by psql's \d, \dt, \l, \du and friends
    'pg_typeof format_type pg_get_expr pg_get_indexdef pg_get_constraintdef pg_get_userbyid pg_get_viewdef',
    'pg_get_triggerdef pg_get_ruledef pg_get_functiondef pg_get_function_arguments',
    'pg_get_function_identity_arguments pg_get_function_result pg_get_serial_sequence pg_get_keywords',
    'pg_get_statisticsobjdef pg_get_statisticsobjdef_columns pg_get_statisticsobjdef_expressions',
    'pg_get_partkeydef pg_get_partition_constraintdef pg_get_object_address pg_get_catalog_foreign_keys',
    'pg_table_is_visible pg_type_is_visible pg_function_is_visible pg_operator_is_visible',
    'pg_opclass_is_visible pg_opfamily_is_visible pg_collation_is_visible pg_conversion_is_visible',
    'pg_statistics_obj_is_visible pg_ts_config_is_visible pg_ts_dict_is_visible pg_ts_parser_is_visible',
    'pg_ts_template_is_visible obj_description col_description shobj_description pg_encoding_to_char',
    'pg_char_to_encoding pg_describe_object pg_identify_object pg_identify_object_as_address',
    'pg_options_to_table pg_tablespace_databases pg_tablespace_location pg_settings_get_flags',
    'pg_index_column_has_property pg_index_has_property pg_indexam_has_property pg_basetype',
    'pg_input_is_valid pg_input_error_info pg_collation_for pg_collation_actual_version',
    'to_regclass to_regtype to_regtypemod to_regproc to_regprocedure to_regnamespace to_regrole',
    'to_regoper to_regoperator to_regcollation pg_partition_tree pg_partition_ancestors pg_partition_root',
    // sizes
    'pg_column_size pg_column_compression pg_database_size pg_indexes_size pg_relation_size pg_size_bytes',
    'pg_size_pretty pg_table_size pg_tablespace_size pg_total_relation_size pg_relation_filenode',
    'pg_relation_filepath pg_filenode_relation',
    // privileges
    'has_table_privilege has_column_privilege has_any_column_privilege has_database_privilege',
    'has_foreign_data_wrapper_privilege has_function_privilege has_language_privilege',
    'has_parameter_privilege has_schema_privilege has_sequence_privilege has_server_privilege',
    'has_tablespace_privilege has_type_privilege has_largeobject_privilege pg_has_role row_security_active',
    // large objects, reading only
    'lo_get loread lo_lseek lo_lseek64 lo_tell lo_tell64 lo_close',
  ]
    .join(' ')
    .split(' '),
);

/**
 * The effect of calling `name` (the parts of a function name exactly as the parser gives them:
 * unquoted identifiers folded to lower case, quoted ones kept). Every built-in lives in
 * pg_catalog and has a lower-case name, so any other schema or a name with capitals is a user's
 * function whatever it is called.
 */
export function functionEffect(nameParts: readonly string[]): FunctionEffect {
  const qualifiedInCatalog = nameParts.length === 2 && nameParts[0] === 'pg_catalog';
  if (nameParts.length !== 1 && !qualifiedInCatalog) return 'write';
  const name = nameParts[nameParts.length - 1];
  if (DANGEROUS.has(name) || DANGEROUS_PREFIXES.some((p) => name.startsWith(p))) return 'dangerous';
  if (WRITING.has(name)) return 'write';
  if (SESSION.has(name) || SESSION_PREFIXES.some((p) => name.startsWith(p))) return 'session';
  // Users cannot create functions in pg_catalog, so a name qualified with it is a built-in.
  if (qualifiedInCatalog) return 'read';
  return READ_ONLY.has(name) ? 'read' : 'write';
}

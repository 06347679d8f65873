%% The Mnesia anchor of the restart figure (run by bench/compact/restart.ts):
%% a disc_copies table of N sessions, loaded by a fresh VM — Pow's
%% MnesiaCache on restart.
%%
%%   erl -noshell -pa Dir -mnesia dir '"…"' -mnesia dump_log_write_threshold 100000 -run mnesia_restart fill N
%%   erl -noshell -pa Dir -mnesia dir '"…"' -run mnesia_restart load
%%
%% fill: a disc schema on this node, table bench_s (disc_copies, set) of N
%% records {sess, Key, Value, ExpiresAt} — Key <<"session:", 36 hex chars>>,
%% Value the benchmark's 8-field session as a map (as mnesia_bench's
%% session_map) — the log dumped into the table's files, then mnesia stops.
%% load: mnesia:start() until wait_for_tables([bench_s]) returns; the time
%% from the start call, the size and the table memory (words).
%% Each prints one `RESULT {json}` line, then halts.
-module(mnesia_restart).
-export([fill/1, load/0]).

-record(sess, {key, value, expires}).

fill([NStr]) ->
    N = list_to_integer(NStr),
    ok = mnesia:create_schema([node()]),
    ok = mnesia:start(),
    {atomic, ok} = mnesia:create_table(bench_s, [{disc_copies, [node()]}, {record_name, sess},
                                                 {attributes, record_info(fields, sess)}, {type, set}]),
    Exp = erlang:system_time(millisecond) + 1800000,
    T0 = nanos(),
    fill(N, Exp),
    dumped = mnesia:dump_log(),
    Size = mnesia:table_info(bench_s, size),
    stopped = mnesia:stop(),
    result(#{kind => fill, n => N, size => Size, seconds => (nanos() - T0) / 1.0e9}).

load() ->
    T0 = nanos(),
    ok = mnesia:start(),
    ok = mnesia:wait_for_tables([bench_s], infinity),
    S = (nanos() - T0) / 1.0e9,
    result(#{kind => load, seconds => S, size => mnesia:table_info(bench_s, size),
             words => mnesia:table_info(bench_s, memory)}).

%% Batches of 1000 dirty writes per async_dirty activity: logged to disk as a
%% running node would have logged the sign-ins.
fill(0, _Exp) -> ok;
fill(N, Exp) ->
    B = min(N, 1000),
    mnesia:async_dirty(fun() ->
        [mnesia:write(bench_s, #sess{key = key(), value = value(I), expires = Exp}, write) || I <- lists:seq(N - B + 1, N)]
    end),
    fill(N - B, Exp).

key() -> <<"session:", (binary:encode_hex(crypto:strong_rand_bytes(18)))/binary>>.

%% The 8 fields of bench/util/session-data.ts (atom keys, binaries for strings).
value(I) ->
    #{userId => iolist_to_binary(io_lib:format("user-~10..0B", [I])),
      csrf => binary:part(base64:encode(crypto:strong_rand_bytes(18)), 0, 22),
      createdAt => 1795658400000 + I rem 1000000, seenAt => 1795658460000 + I rem 1000000,
      ip => iolist_to_binary(io_lib:format("192.168.~B.~B", [(I bsr 8) band 255, I band 255])),
      userAgent => <<"Mozilla/5.0 Firefox/133.0">>, roles => <<"user,editor">>, mfa => true}.

nanos() -> erlang:monotonic_time(nanosecond).

result(Map) ->
    Fields = [[$", atom_to_list(K), $", $:, json(V)] || {K, V} <- maps:to_list(Map)],
    io:format("RESULT {~s}~n", [lists:join(",", Fields)]),
    halt(0).

json(V) when is_atom(V) -> [$", atom_to_list(V), $"];
json(V) when is_integer(V) -> integer_to_list(V);
json(V) when is_float(V) -> float_to_list(V, [{decimals, 3}, compact]).

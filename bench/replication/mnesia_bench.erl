%% Mnesia anchors of the replication benchmarks (run by bench/replication/run.ts).
%%
%% Runs on node a@127.0.0.1; node b@127.0.0.1 is already up (started by run.ts
%% with the same cookie and an empty mnesia dir). A disc schema on [a, b] as in
%% the anchors note; every table here is ram_copies and of type set. Records are
%% {sess, Key, Value, ExpiresAt}: Key = <<"session:", 36 hex chars>> (44 B),
%% Value = 200 random bytes (the copy also runs with the session as a map).
%%
%%   erl -noshell -name a@127.0.0.1 -setcookie C -pa Dir -mnesia dir '"…"' \
%%       -run mnesia_bench main b@127.0.0.1 Warm Runs NWrites NCopy CopyWarm CopyRuns LagN LagRuns AsyncN AsyncRuns
%%
%% Prints one `RESULT {json}` line per timed run (warm-up runs print with
%% "warmup":true), then halts.
-module(mnesia_bench).
-export([main/1, subscriber/1]).

-record(sess, {key, value, expires}).

main([BStr, WarmS, RunsS, NWritesS, NCopyS, CopyWarmS, CopyRunsS, LagNS, LagRunsS, AsyncNS, AsyncRunsS]) ->
    [Warm, Runs, NWrites, NCopy, CopyWarm, CopyRuns, LagN, LagRuns, AsyncN, AsyncRuns] =
        [list_to_integer(S) || S <- [WarmS, RunsS, NWritesS, NCopyS, CopyWarmS, CopyRunsS, LagNS, LagRunsS, AsyncNS, AsyncRunsS]],
    B = list_to_atom(BStr),
    Code = try
        setup(B),
        writes(B, Warm, Runs, NWrites),
        lag(B, Warm, LagRuns, LagN),
        async_throughput(B, Warm, AsyncRuns, AsyncN),
        copy(B, NCopy, CopyWarm, CopyRuns),
        0
    catch Class:Reason:Stack ->
        io:format("ERROR ~p:~p ~p~n", [Class, Reason, Stack]),
        1
    end,
    rpc:call(B, mnesia, stop, []),
    mnesia:stop(),
    erlang:halt(Code).

setup(B) ->
    wait_pong(B, 100),
    ok = mnesia:create_schema([node(), B]),
    ok = rpc:call(B, mnesia, start, []),
    ok = mnesia:start(),
    ok = mnesia:wait_for_tables([schema], 10000),
    out(#{kind => setup, nodes => [node(), B], otp => list_to_binary(erlang:system_info(otp_release)),
          schedulers => erlang:system_info(schedulers_online)}).

wait_pong(_B, 0) -> error(no_peer);
wait_pong(B, N) ->
    case net_adm:ping(B) of
        pong -> ok;
        pang -> timer:sleep(100), wait_pong(B, N - 1)
    end.

%% mnesia:sync_transaction writes from one process, table ram_copies on [a, b].
writes(B, Warm, Runs, N) ->
    {atomic, ok} = mnesia:create_table(bench_w, [{ram_copies, [node(), B]}, {record_name, sess},
                                                 {attributes, record_info(fields, sess)}, {type, set}]),
    ok = mnesia:wait_for_tables([bench_w], 10000),
    Keys = list_to_tuple(keys(10000)),
    Values = list_to_tuple([crypto:strong_rand_bytes(200) || _ <- lists:seq(1, 1000)]),
    lists:foreach(
      fun(Run) ->
              T0 = nanos(),
              Lats = [begin
                          Rec = #sess{key = element(1 + (I rem 10000), Keys), value = element(1 + (I rem 1000), Values),
                                      expires = erlang:system_time(millisecond) + 1800000},
                          S = nanos(),
                          {atomic, ok} = mnesia:sync_transaction(fun() -> mnesia:write(bench_w, Rec, write) end),
                          nanos() - S
                      end || I <- lists:seq(Run * N, Run * N + N - 1)],
              Elapsed = nanos() - T0,
              Sorted = list_to_tuple(lists:sort(Lats)),
              out(#{kind => sync_transaction, run => Run, warmup => Run < Warm, n => N,
                    ops_per_s => N / (Elapsed / 1.0e9),
                    p50_us => pct(Sorted, 50) / 1000, p99_us => pct(Sorted, 99) / 1000})
      end, lists:seq(0, Warm + Runs - 1)).

%% Idle replication lag of async_dirty writes a -> b: one write, sleep 1 ms; the
%% write is seen on b by a mnesia:subscribe subscriber. Both VMs read the same
%% OS clock (os:system_time, CLOCK_REALTIME of this one kernel).
lag(B, Warm, Runs, N) ->
    Sub = spawn(B, ?MODULE, subscriber, [self()]),
    receive {subscribed, Sub} -> ok after 5000 -> error(no_subscriber) end,
    Values = list_to_tuple([crypto:strong_rand_bytes(200) || _ <- lists:seq(1, 100)]),
    lists:foreach(
      fun(Run) ->
              Keys = keys(N),
              Sub ! reset,
              Starts = [begin
                            Rec = #sess{key = K, value = element(1 + (erlang:phash2(K) rem 100), Values),
                                        expires = erlang:system_time(millisecond) + 1800000},
                            T = os:system_time(nanosecond),
                            mnesia:async_dirty(fun() -> mnesia:write(bench_w, Rec, write) end),
                            timer:sleep(1),
                            {K, T}
                        end || K <- Keys],
              timer:sleep(50),
              Sub ! {collect, self()},
              Seen = receive {seen, Map} -> Map after 10000 -> error(no_collect) end,
              Lags = [(maps:get(K, Seen) - T) / 1000 || {K, T} <- Starts, maps:is_key(K, Seen)],
              Sorted = list_to_tuple(lists:sort(Lags)),
              out(#{kind => async_dirty_lag, run => Run, warmup => Run < Warm, n => N, seen => length(Lags),
                    p50_us => pct(Sorted, 50), p99_us => pct(Sorted, 99),
                    max_us => element(tuple_size(Sorted), Sorted)})
      end, lists:seq(0, Warm + Runs - 1)),
    Sub ! stop.

subscriber(Parent) ->
    {ok, _} = mnesia:subscribe({table, bench_w, simple}),
    Parent ! {subscribed, self()},
    subscriber_loop(#{}).

subscriber_loop(Seen) ->
    receive
        {mnesia_table_event, {write, Rec, _}} ->
            T = os:system_time(nanosecond),
            subscriber_loop(Seen#{element(2, Rec) => T});
        {mnesia_table_event, _} -> subscriber_loop(Seen);
        reset -> subscriber_loop(#{});
        {collect, From} -> From ! {seen, Seen}, subscriber_loop(Seen);
        stop -> ok
    end.

%% async_dirty writes of N fresh records from one process, as fast as it goes,
%% until all of them are in b's replica (polled with table_info(size) on b).
async_throughput(B, Warm, Runs, N) ->
    {atomic, ok} = mnesia:create_table(bench_a, [{ram_copies, [node(), B]}, {record_name, sess},
                                                 {attributes, record_info(fields, sess)}, {type, set}]),
    ok = mnesia:wait_for_tables([bench_a], 10000),
    Values = list_to_tuple([crypto:strong_rand_bytes(200) || _ <- lists:seq(1, 1000)]),
    lists:foreach(
      fun(Run) ->
              {atomic, ok} = mnesia:clear_table(bench_a),
              wait_size(B, bench_a, 0, fun(S, W) -> S =< W end),
              Keys = keys(N),
              Exp = erlang:system_time(millisecond) + 1800000,
              Cpu0 = cpu_ms(B),
              T0 = nanos(),
              lists:foldl(fun(K, I) ->
                                  Rec = #sess{key = K, value = element(1 + (I rem 1000), Values), expires = Exp},
                                  mnesia:async_dirty(fun() -> mnesia:write(bench_a, Rec, write) end),
                                  I + 1
                          end, 0, Keys),
              TLocal = nanos(),
              wait_size(B, bench_a, N, fun(S, W) -> S >= W end),
              T1 = nanos(),
              {CpuA, CpuB} = cpu_since(B, Cpu0),
              out(#{kind => async_dirty_throughput, run => Run, warmup => Run < Warm, n => N,
                    visible_on_b_per_s => N / ((T1 - T0) / 1.0e9), local_per_s => N / ((TLocal - T0) / 1.0e9),
                    cpu_a_us_per_op => CpuA * 1000 / N, cpu_b_us_per_op => CpuB * 1000 / N})
      end, lists:seq(0, Warm + Runs - 1)),
    {atomic, ok} = mnesia:delete_table(bench_a).

wait_size(B, Tab, Want, Done) ->
    case Done(rpc:call(B, mnesia, table_info, [Tab, size]), Want) of
        true -> ok;
        false -> timer:sleep(2), wait_size(B, Tab, Want, Done)
    end.

%% add_table_copy(ram_copies) of N records to b, until wait_for_tables on b;
%% then del_table_copy, and again. Once with the anchor's value (200 random
%% bytes, one off-heap binary per record), once with the benchmark's session as
%% a map of the same 8 fields (what our nodes copy: see value/2).
copy(B, N, Warm, Runs) ->
    copy(B, N, Warm, Runs, binary),
    copy(B, N, Warm, Runs, session_map).

copy(B, N, Warm, Runs, Kind) ->
    {atomic, ok} = mnesia:create_table(bench_c, [{ram_copies, [node()]}, {record_name, sess},
                                                 {attributes, record_info(fields, sess)}, {type, set}]),
    T0 = nanos(),
    Exp = erlang:system_time(millisecond) + 1800000,
    fill(N, Exp, Kind),
    out(#{kind => copy_fill, value => Kind, n => N, seconds => (nanos() - T0) / 1.0e9,
          words => mnesia:table_info(bench_c, memory), size => mnesia:table_info(bench_c, size)}),
    lists:foreach(
      fun(Run) ->
              erlang:garbage_collect(),
              Cpu0 = cpu_ms(B),
              S = nanos(),
              {atomic, ok} = mnesia:add_table_copy(bench_c, B, ram_copies),
              ok = rpc:call(B, mnesia, wait_for_tables, [[bench_c], 120000]),
              E = nanos(),
              {CpuA, CpuB} = cpu_since(B, Cpu0),
              Size = rpc:call(B, mnesia, table_info, [bench_c, size]),
              out(#{kind => add_table_copy, value => Kind, run => Run, warmup => Run < Warm, n => N, size_on_b => Size,
                    seconds => (E - S) / 1.0e9, cpu_a_s => CpuA / 1000, cpu_b_s => CpuB / 1000}),
              {atomic, ok} = mnesia:del_table_copy(bench_c, B),
              rpc:call(B, erlang, garbage_collect, [])
      end, lists:seq(0, Warm + Runs - 1)),
    {atomic, ok} = mnesia:delete_table(bench_c).

%% The table lives on a only, so a raw ets context may load it (fast, no transaction).
fill(N, Exp, Kind) ->
    mnesia:ets(fun() -> fill_ets(N, Exp, Kind) end).

fill_ets(0, _Exp, _Kind) -> ok;
fill_ets(N, Exp, Kind) ->
    [K] = keys(1),
    ok = mnesia:write(bench_c, #sess{key = K, value = value(Kind, N), expires = Exp}, write),
    fill_ets(N - 1, Exp, Kind).

%% The anchor's opaque 200 bytes, or session I as bench/util/session-data.ts
%% builds it: the same 8 fields (atom keys, as an Elixir struct or keyword list
%% has; binaries for strings, integers for times).
value(binary, _I) -> crypto:strong_rand_bytes(200);
value(session_map, I) ->
    #{userId => iolist_to_binary(io_lib:format("user-~10..0B", [I])),
      csrf => binary:part(base64:encode(crypto:strong_rand_bytes(18)), 0, 22),
      createdAt => 1795658400000 + I rem 1000000, seenAt => 1795658460000 + I rem 1000000,
      ip => iolist_to_binary(io_lib:format("192.168.~B.~B", [(I bsr 8) band 255, I band 255])),
      userAgent => <<"Mozilla/5.0 Firefox/133.0">>, roles => <<"user,editor">>, mfa => true}.

keys(N) ->
    [<<"session:", (binary:encode_hex(crypto:strong_rand_bytes(18)))/binary>> || _ <- lists:seq(1, N)].

nanos() -> erlang:monotonic_time(nanosecond).

%% CPU time (ms, all threads of the VM) of a and of b.
cpu_ms(B) ->
    {A, _} = erlang:statistics(runtime),
    {Bm, _} = rpc:call(B, erlang, statistics, [runtime]),
    {A, Bm}.

cpu_since(B, {A0, B0}) ->
    {A1, B1} = cpu_ms(B),
    {A1 - A0, B1 - B0}.

pct(Sorted, P) when tuple_size(Sorted) > 0 ->
    Rank = min(tuple_size(Sorted), max(1, ceil(P / 100 * tuple_size(Sorted)))),
    element(Rank, Sorted);
pct(_, _) -> null.

%% One line of JSON (flat maps of atoms, numbers, binaries, booleans, lists of atoms).
out(Map) ->
    Fields = [[$", atom_to_list(K), $", $:, json(V)] || {K, V} <- maps:to_list(Map)],
    io:format("RESULT {~s}~n", [lists:join(",", Fields)]).

json(true) -> "true";
json(false) -> "false";
json(null) -> "null";
json(V) when is_atom(V) -> [$", atom_to_list(V), $"];
json(V) when is_integer(V) -> integer_to_list(V);
json(V) when is_float(V) -> float_to_list(V, [{decimals, 3}, compact]);
json(V) when is_binary(V) -> [$", binary_to_list(V), $"];
json(V) when is_list(V) -> [$[, lists:join(",", [json(X) || X <- V]), $]].

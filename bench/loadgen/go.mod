module airlock.local/bench/loadgen

go 1.22

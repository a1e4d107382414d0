// Command loadgen is the measuring side of bench/stack.sh.
//
//	loadgen http  -url URL -rate 1000 -connections 16 -warmup 3s -duration 15s [-header 'K: V'] [-cpu name=pid,...]...
//	loadgen cpu   -duration 15s [-cpu name=pid,...]...
//	loadgen pglog -from EPOCH_US -to EPOCH_US FILE...
//
// http sends GET requests at a fixed rate (open loop) over a fixed number of keep-alive
// connections and measures each request's latency from the time it was scheduled to be sent, not
// from the time a connection became free, so that a slow server cannot hide its queueing delay
// (coordinated omission). During the measured window it samples, from /proc, the CPU time used
// by each named group of processes.
//
// cpu samples the same process groups over a window that starts now, for loads that another
// client drives (pgbench -R).
//
// pglog reads pgbench per-transaction logs (pgbench -l, with -R) and summarises the transactions
// that completed inside a window: count and latency from the scheduled start.
//
// Every subcommand prints one JSON object on stdout.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "http":
		err = runHTTP(os.Args[2:])
	case "cpu":
		err = runCPU(os.Args[2:])
	case "pglog":
		err = runPglog(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen http|cpu|pglog [flags]  (loadgen <cmd> -h for the flags)")
	os.Exit(2)
}

func emit(v any) error {
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(v)
}

// --- process groups and /proc sampling ------------------------------------------------------

// groupFlag collects repeated -cpu name=pid,pid flags; "self" stands for this process.
type groupFlag []group

type group struct {
	name  string
	roots []int
}

func (g *groupFlag) String() string { return fmt.Sprint(*g) }

func (g *groupFlag) Set(v string) error {
	name, list, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=pid[,pid...], not %q", v)
	}
	var roots []int
	for _, p := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p == "self" {
			roots = append(roots, os.Getpid())
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("%s: bad pid %q", name, p)
		}
		roots = append(roots, pid)
	}
	*g = append(*g, group{name, roots})
	return nil
}

type procStat struct {
	ppid   int
	ticks  int64 // utime + stime of the whole process (all its threads)
	reaped int64 // cutime + cstime: children it has waited for
}

type snapshot struct {
	at    time.Time
	procs map[int]procStat
	busy  int64 // machine-wide busy ticks, all CPUs (/proc/stat)
	total int64 // machine-wide ticks, busy and idle
}

// Linux reports /proc times in USER_HZ, which is 100 on every architecture it supports.
const ticksPerSecond = 100

func takeSnapshot() snapshot {
	s := snapshot{at: time.Now(), procs: map[int]procStat{}}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process exited meanwhile
		}
		// The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
		line := string(b)
		i := strings.LastIndexByte(line, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(line[i+1:])
		if len(fields) < 15 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		ppid, _ := strconv.Atoi(fields[1])
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		cutime, _ := strconv.ParseInt(fields[13], 10, 64)
		cstime, _ := strconv.ParseInt(fields[14], 10, 64)
		s.procs[pid] = procStat{ppid, utime + stime, cutime + cstime}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		first, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(first) // cpu user nice system idle iowait irq softirq steal guest guest_nice
		for i := 1; i < len(f) && i <= 8; i++ {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			s.total += n
			if i != 4 && i != 5 {
				s.busy += n
			}
		}
	}
	return s
}

// members returns the roots and all their descendants present in the snapshot.
func (s snapshot) members(roots []int) map[int]bool {
	children := map[int][]int{}
	for pid, p := range s.procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	out := map[int]bool{}
	var walk func(int)
	walk = func(pid int) {
		if out[pid] {
			return
		}
		if _, ok := s.procs[pid]; !ok {
			return
		}
		out[pid] = true
		for _, c := range children[pid] {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

type groupCPU struct {
	Ms        float64 `json:"ms"`
	Processes int     `json:"processes"`
}

type cpuWindow struct {
	StartUs int64               `json:"windowStartUs"`
	EndUs   int64               `json:"windowEndUs"`
	Seconds float64             `json:"seconds"`
	Groups  map[string]groupCPU `json:"groups"`
	// Every process on the machine, counted the same way as the groups, plus the children that
	// exited and were reaped inside the window (their whole life): the groups' complement is the
	// CPU that other work took meanwhile.
	AllProcessesMs float64 `json:"allProcessesMs"`
	// The same from /proc/stat (tick-sampled, all CPUs) and the capacity (cores × seconds).
	MachineBusyMs     float64 `json:"machineBusyMs"`
	MachineCapacityMs float64 `json:"machineCapacityMs"`
}

// cpuBetween: per group, the CPU its processes used between the two snapshots. A process that
// started inside the window counts with all its time; one that exited inside it is lost (the
// groups here keep their processes for the whole run).
func cpuBetween(a, b snapshot, groups []group) cpuWindow {
	w := cpuWindow{
		StartUs: a.at.UnixMicro(),
		EndUs:   b.at.UnixMicro(),
		Seconds: b.at.Sub(a.at).Seconds(),
		Groups:  map[string]groupCPU{},
	}
	for _, g := range groups {
		pids := b.members(g.roots)
		for pid := range a.members(g.roots) {
			pids[pid] = true
		}
		var ticks int64
		n := 0
		for pid := range pids {
			end, ok := b.procs[pid]
			if !ok {
				continue
			}
			n++
			ticks += end.ticks - a.procs[pid].ticks
		}
		gc := w.Groups[g.name]
		gc.Ms += float64(ticks) * 1000 / ticksPerSecond
		gc.Processes += n
		w.Groups[g.name] = gc
	}
	var all int64
	for pid, end := range b.procs {
		start, seen := a.procs[pid]
		all += end.ticks - start.ticks
		if seen {
			all += end.reaped - start.reaped
		}
	}
	w.AllProcessesMs = float64(all) * 1000 / ticksPerSecond
	w.MachineBusyMs = float64(b.busy-a.busy) * 1000 / ticksPerSecond
	w.MachineCapacityMs = float64(b.total-a.total) * 1000 / ticksPerSecond
	return w
}

func runCPU(args []string) error {
	fs := flag.NewFlagSet("cpu", flag.ExitOnError)
	duration := fs.Duration("duration", 15*time.Second, "length of the window, starting now")
	var groups groupFlag
	fs.Var(&groups, "cpu", "a process group: name=pid[,pid...] (the pids and all their descendants); repeat")
	_ = fs.Parse(args)
	a := takeSnapshot()
	time.Sleep(time.Until(a.at.Add(*duration)))
	return emit(cpuBetween(a, takeSnapshot(), groups))
}

// --- latency summaries ----------------------------------------------------------------------

type latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// summarise takes durations in microseconds and reports milliseconds (nearest-rank percentiles).
func summarise(us []float64) *latency {
	if len(us) == 0 {
		return nil
	}
	sort.Float64s(us)
	rank := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(us)))) - 1
		return us[max(0, min(i, len(us)-1))] / 1000
	}
	sum := 0.0
	for _, v := range us {
		sum += v
	}
	return &latency{rank(0.5), rank(0.9), rank(0.99), rank(0.999), us[len(us)-1] / 1000, sum / float64(len(us)) / 1000}
}

// --- open-loop HTTP -------------------------------------------------------------------------

type headerFlag []string

func (h *headerFlag) String() string     { return strings.Join(*h, "; ") }
func (h *headerFlag) Set(v string) error { *h = append(*h, v); return nil }

type outcome struct {
	scheduled time.Time
	started   time.Time
	done      time.Time
	status    int
	bytes     int64
	err       error
	unsent    bool
}

type httpResult struct {
	URL             string    `json:"url"`
	Rate            float64   `json:"rate"`
	Connections     int       `json:"connections"`
	WarmupSeconds   float64   `json:"warmupSeconds"`
	Scheduled       int       `json:"scheduled"`
	Completed       int       `json:"completed"`
	OK              int       `json:"ok"`
	Non2xx          int       `json:"non2xx"`
	SocketErrors    int       `json:"socketErrors"`
	Unsent          int       `json:"unsent"`
	FirstError      string    `json:"firstError,omitempty"`
	CompletedInCPU  int       `json:"completedInWindow"`
	AchievedRps     float64   `json:"achievedRps"`
	ResponseBytes   int64     `json:"responseBytes"`
	Latency         *latency  `json:"latencyMs"`
	SendLag         *latency  `json:"sendLagMs"`
	CPU             cpuWindow `json:"cpu"`
	GeneratorCPUMs  float64   `json:"generatorCpuMs"`
	DrainTimeoutSec float64   `json:"drainTimeoutSeconds"`
}

func runHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	url := fs.String("url", "", "URL to GET")
	rate := fs.Float64("rate", 1000, "requests per second, evenly spaced")
	conns := fs.Int("connections", 16, "keep-alive connections (one request in flight on each)")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured time at the same rate, first")
	duration := fs.Duration("duration", 15*time.Second, "measured time")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout (a socket error)")
	drain := fs.Duration("drain", 10*time.Second, "after the schedule ends, how long requests still queued may wait to be sent")
	var headers headerFlag
	fs.Var(&headers, "header", "a request header 'Name: value'; repeat")
	var groups groupFlag
	fs.Var(&groups, "cpu", "a process group: name=pid[,pid...] (the pids and all their descendants); repeat")
	_ = fs.Parse(args)
	if *url == "" || *rate <= 0 || *conns < 1 {
		return errors.New("-url, a positive -rate and -connections ≥ 1 are required")
	}
	hdr := http.Header{}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("bad header %q", h)
		}
		hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}

	interval := float64(time.Second) / *rate
	start := time.Now().Add(200 * time.Millisecond)
	measureFrom := start.Add(*warmup)
	measureTo := measureFrom.Add(*duration)
	hardStop := measureTo.Add(*drain)
	total := int(math.Ceil(float64(*warmup+*duration) / interval))

	queue := make(chan time.Time, total)
	results := make(chan outcome, 4096)
	var workers sync.WaitGroup
	for i := 0; i < *conns; i++ {
		client := &http.Client{
			Timeout: *timeout,
			Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: *timeout}).DialContext,
				MaxIdleConnsPerHost: 1,
				MaxConnsPerHost:     1,
				DisableCompression:  true,
				IdleConnTimeout:     time.Minute,
			},
		}
		workers.Add(1)
		go func() {
			defer workers.Done()
			for sched := range queue {
				if time.Now().After(hardStop) {
					results <- outcome{scheduled: sched, unsent: true}
					continue
				}
				results <- get(client, *url, hdr, sched)
			}
		}()
	}

	// CPU window, on its own goroutine so that the schedule keeps its pace.
	cpuDone := make(chan cpuWindow, 1)
	go func() {
		time.Sleep(time.Until(measureFrom))
		a := takeSnapshot()
		time.Sleep(time.Until(measureTo))
		cpuDone <- cpuBetween(a, takeSnapshot(), groups)
	}()

	// The schedule: request i is due at start + i × interval, whether or not a connection is free.
	go func() {
		for i := 0; i < total; i++ {
			due := start.Add(time.Duration(float64(i) * interval))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			queue <- due
		}
		close(queue)
	}()
	go func() { workers.Wait(); close(results) }()

	res := httpResult{
		URL: *url, Rate: *rate, Connections: *conns, WarmupSeconds: warmup.Seconds(),
		DrainTimeoutSec: drain.Seconds(),
	}
	var lat, lag []float64
	for o := range results {
		if !o.done.IsZero() && !o.done.Before(measureFrom) && o.done.Before(measureTo) {
			res.CompletedInCPU++
		}
		if o.scheduled.Before(measureFrom) || !o.scheduled.Before(measureTo) {
			continue
		}
		res.Scheduled++
		switch {
		case o.unsent:
			res.Unsent++
			continue
		case o.err != nil:
			res.SocketErrors++
			if res.FirstError == "" {
				res.FirstError = o.err.Error()
			}
		case o.status < 200 || o.status > 299:
			res.Non2xx++
			if res.FirstError == "" {
				res.FirstError = fmt.Sprintf("HTTP %d", o.status)
			}
		default:
			res.OK++
		}
		res.Completed++
		res.ResponseBytes += o.bytes
		lat = append(lat, float64(o.done.Sub(o.scheduled).Microseconds()))
		lag = append(lag, float64(o.started.Sub(o.scheduled).Microseconds()))
	}
	res.CPU = <-cpuDone
	res.AchievedRps = float64(res.CompletedInCPU) / res.CPU.Seconds
	res.Latency = summarise(lat)
	res.SendLag = summarise(lag)
	if g, ok := res.CPU.Groups["loadgen"]; ok {
		res.GeneratorCPUMs = g.Ms
	}
	return emit(res)
}

func get(client *http.Client, url string, hdr http.Header, sched time.Time) outcome {
	o := outcome{scheduled: sched, started: time.Now()}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		o.err, o.done = err, time.Now()
		return o
	}
	req.Header = hdr.Clone()
	resp, err := client.Do(req)
	if err != nil {
		o.err, o.done = err, time.Now()
		return o
	}
	o.bytes, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	o.done = time.Now()
	o.status = resp.StatusCode
	if err != nil {
		o.err = err
	}
	return o
}

// --- pgbench logs ---------------------------------------------------------------------------

type pglogResult struct {
	Transactions int      `json:"transactions"`
	Failed       int      `json:"failed"`
	Seconds      float64  `json:"seconds"`
	PerSecond    float64  `json:"perSecond"`
	Latency      *latency `json:"latencyMs"`
	ScheduleLag  *latency `json:"scheduleLagMs"`
}

func runPglog(args []string) error {
	fs := flag.NewFlagSet("pglog", flag.ExitOnError)
	from := fs.Int64("from", 0, "window start, Unix epoch microseconds")
	to := fs.Int64("to", 0, "window end, Unix epoch microseconds")
	_ = fs.Parse(args)
	if *to <= *from || fs.NArg() == 0 {
		return errors.New("-from < -to and at least one log file are required")
	}
	res := pglogResult{Seconds: float64(*to-*from) / 1e6}
	var lat, lag []float64
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// client_id transaction_no time script_no time_epoch time_us [schedule_lag]
			fl := strings.Fields(sc.Text())
			if len(fl) < 6 {
				continue
			}
			epoch, err1 := strconv.ParseInt(fl[4], 10, 64)
			us, err2 := strconv.ParseInt(fl[5], 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			at := epoch*1_000_000 + us
			if at < *from || at >= *to {
				continue
			}
			elapsed, err := strconv.ParseFloat(fl[2], 64)
			if err != nil { // "failed", "skipped", "serialization", "deadlock"
				res.Failed++
				continue
			}
			var behind float64
			if len(fl) >= 7 {
				behind, _ = strconv.ParseFloat(fl[6], 64)
			}
			res.Transactions++
			lat = append(lat, elapsed+behind)
			lag = append(lag, behind)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	res.PerSecond = float64(res.Transactions) / res.Seconds
	res.Latency = summarise(lat)
	res.ScheduleLag = summarise(lag)
	return emit(res)
}

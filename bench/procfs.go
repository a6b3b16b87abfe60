package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat; 100 on every
// Linux architecture Go runs on.
const userHZ = 100

// procCPU returns the user plus system CPU time a process has used.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	// The command name is in parentheses and may hold spaces; utime and
	// stime are fields 14 and 15, the 12th and 13th after the name.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("read cpu time: malformed /proc/pid/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("read cpu time: short /proc/pid/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// procRSS returns a process's resident memory in bytes (VmRSS).
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read rss: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("read rss: no VmRSS in /proc/pid/status")
}

// cpuMeter measures a process's CPU use over an interval.
type cpuMeter struct {
	pid   int
	cpu   time.Duration
	start time.Time
}

func startCPU(pid int) (*cpuMeter, error) {
	cpu, err := procCPU(pid)
	if err != nil {
		return nil, err
	}
	return &cpuMeter{pid: pid, cpu: cpu, start: time.Now()}, nil
}

// percent returns the CPU used since start as a percentage of one core.
func (m *cpuMeter) percent() (float64, error) {
	cpu, err := procCPU(m.pid)
	if err != nil {
		return 0, err
	}
	return 100 * float64(cpu-m.cpu) / float64(time.Since(m.start)), nil
}

// settledRSS polls a process's RSS until it holds still (the last readings
// over a second within 1 % or 256 KiB of each other: the garbage collector
// and scavenger have done what they do after a burst) or limit passes. It
// returns the last reading and whether it settled.
func settledRSS(ctx context.Context, pid int, limit time.Duration) (int64, bool, error) {
	const every, window = 200 * time.Millisecond, 6
	deadline := time.Now().Add(limit)
	var readings []int64
	for {
		rss, err := procRSS(pid)
		if err != nil {
			return 0, false, err
		}
		readings = append(readings, rss)
		if n := len(readings); n >= window {
			last := readings[n-window:]
			lo, hi := last[0], last[0]
			for _, r := range last {
				lo, hi = min(lo, r), max(hi, r)
			}
			if hi-lo <= max(hi/100, 256<<10) {
				return rss, true, nil
			}
		}
		if time.Now().After(deadline) {
			return rss, false, nil
		}
		if err := sleep(ctx, every); err != nil {
			return 0, false, err
		}
	}
}

// listenAddr returns the IPv4 TCP address a process listens on, or "" while
// it listens on none. It matches the LISTEN sockets of /proc/<pid>/net/tcp
// with the socket inodes among the process's file descriptors.
func listenAddr(pid int) (string, error) {
	listening, err := listeningSockets(pid)
	if err != nil || len(listening) == 0 {
		return "", err
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return "", nil // not there yet, or gone: the caller notices an exit
	}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		inode, ok := strings.CutPrefix(link, "socket:[")
		if !ok {
			continue
		}
		if addr, ok := listening[strings.TrimSuffix(inode, "]")]; ok {
			return addr, nil
		}
	}
	return "", nil
}

// listeningSockets maps socket inodes to the addresses of the IPv4 TCP
// sockets in LISTEN state in the process's network namespace.
func listeningSockets(pid int) (map[string]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return nil, nil
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" { // 0A: TCP_LISTEN
			continue
		}
		addr, err := decodeProcAddr(f[1])
		if err != nil {
			return nil, err
		}
		out[f[9]] = addr
	}
	return out, nil
}

// decodeProcAddr decodes "0100007F:1F90" (little-endian IPv4, hex port).
func decodeProcAddr(s string) (string, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	ip, err := hex.DecodeString(ipHex)
	if !ok || err != nil || len(ip) != 4 {
		return "", fmt.Errorf("malformed /proc/net/tcp address %q", s)
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return "", fmt.Errorf("malformed /proc/net/tcp port %q", s)
	}
	return net.JoinHostPort(net.IPv4(ip[3], ip[2], ip[1], ip[0]).String(), strconv.FormatUint(port, 10)), nil
}

// machineBusy returns the CPU time all cores together have spent busy (not
// idle, not waiting for I/O) since boot, from the first line of /proc/stat.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read machine cpu: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 6 || f[0] != "cpu" {
		return 0, errors.New("read machine cpu: malformed /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read machine cpu: %w", err)
		}
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is counted in user already.
		if i != 3 && i != 4 && i < 8 {
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / userHZ, nil
}

// databasePID returns the pid of the MariaDB or MySQL server running on
// this machine, or 0 when there is none.
func databasePID() int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			continue
		}
		if name := strings.TrimSpace(string(comm)); name == "mariadbd" || name == "mysqld" {
			return pid
		}
	}
	return 0
}

// cpuSplit measures where a machine's CPU goes over an interval: Hookline,
// the database server when it runs here, the bench itself (clients and
// receivers), and every core together.
type cpuSplit struct {
	hook, db, self *cpuMeter
	busy           time.Duration
}

// startCPUSplit adds to hook, the meter of Hookline's process, the bench's
// own process, the local MySQL server when withDB, and the whole machine.
func startCPUSplit(hook *cpuMeter, withDB bool) (*cpuSplit, error) {
	s := &cpuSplit{hook: hook}
	var err error
	if s.self, err = startCPU(os.Getpid()); err != nil {
		return nil, err
	}
	if withDB {
		if pid := databasePID(); pid != 0 {
			if s.db, err = startCPU(pid); err != nil {
				return nil, err
			}
		}
	}
	if s.busy, err = machineBusy(); err != nil {
		return nil, err
	}
	return s, nil
}

// note says how much CPU each part used per item (a delivery, an event)
// and how busy the machine was: the figures that show what bounds a rate.
func (s *cpuSplit) note(items int64, item string) (string, error) {
	elapsed := time.Since(s.hook.start)
	busy, err := machineBusy()
	if err != nil {
		return "", err
	}
	perItem := func(m *cpuMeter) (string, error) {
		cpu, err := procCPU(m.pid)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%.0f µs", float64((cpu-m.cpu).Microseconds())/float64(max(items, 1))), nil
	}
	parts := []struct {
		name string
		m    *cpuMeter
	}{{"hookline", s.hook}, {"database", s.db}, {"bench", s.self}}
	var out []string
	for _, p := range parts {
		if p.m == nil {
			continue
		}
		v, err := perItem(p.m)
		if err != nil {
			return "", err
		}
		out = append(out, p.name+" "+v)
	}
	return fmt.Sprintf("CPU per %s: %s; all %d cores %.0f %% busy", item, strings.Join(out, ", "), runtime.NumCPU(),
		100*float64(busy-s.busy)/float64(elapsed)/float64(runtime.NumCPU())), nil
}

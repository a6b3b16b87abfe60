package main

import (
	"math/bits"
	"time"
)

// hist is a latency histogram in microseconds with log-linear buckets: exact
// below 128 µs, then 64 buckets per power of two (under 1.6 % error). The
// zero value is empty and ready; it is not safe for concurrent use.
type hist struct {
	counts []uint64
	n      uint64
}

const histSub = 64 // buckets per power of two

func histBucket(us uint64) int {
	if us < 2*histSub {
		return int(us)
	}
	shift := bits.Len64(us) - 7 // us>>shift is in [64, 127]
	return 2*histSub + (shift-1)*histSub + int(us>>shift) - histSub
}

// histValue returns the middle of bucket i in microseconds.
func histValue(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	k := i - 2*histSub
	shift := k/histSub + 1
	lo := uint64(k%histSub+histSub) << shift
	return lo + (1<<shift)/2
}

// add records one latency; negative ones (clock steps) count as zero.
func (h *hist) add(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	i := histBucket(us)
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
}

// merge adds o's counts to h.
func (h *hist) merge(o *hist) {
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

func (h *hist) clone() hist {
	return hist{counts: append([]uint64(nil), h.counts...), n: h.n}
}

// count returns how many latencies were recorded.
func (h *hist) count() uint64 { return h.n }

// quantile returns the latency below which a fraction q of the recorded
// ones lie; 0 when none was recorded.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return time.Duration(histValue(i)) * time.Microsecond
		}
	}
	return time.Duration(histValue(len(h.counts)-1)) * time.Microsecond
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

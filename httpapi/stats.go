package httpapi

import (
	"time"

	"github.com/hookline/hookline/model"
)

// statsCost prices webhookStats as a list of the buckets it returns: a day
// of minutes costs 1,440 times its fields.
func statsCost(child int, _ string, since time.Time, interval *model.StatsInterval) int {
	i := model.StatsIntervalMinute
	if interval != nil {
		i = *interval
	}
	_, n, err := model.StatsBuckets(since, time.Now(), i)
	if err != nil {
		n = 1 // the resolver refuses it
	}
	return 1 + n*child
}

// Command robfig-fixtures prints robfig/cron v3's own fire times for the 6-field expressions surecron reads
// as robfig/cron's `WithSeconds` dialect, as the JSON fixture test/unit/cron-dialects.test.ts checks
// surecron against (so the tests need no Go).
//
//	cd scripts/robfig-fixtures && go run . > ../../test/fixtures/robfig-fires.json \
//	  && npx prettier --write ../../test/fixtures/robfig-fires.json
//
// Calendar expressions are parsed by the parser cron.WithSeconds() installs and walked with Schedule.Next
// from `from`; `@every` is walked the way cron.Cron runs an entry: Next(start), then Next of each fire.
// A refused expression records robfig's error instead of fires. All times are UTC unless the expression
// carries a CRON_TZ=/TZ= prefix (robfig then walks that zone; the fixture still prints UTC instants).
package main

import (
	"encoding/json"
	"os"
	"runtime/debug"
	"time"

	"github.com/robfig/cron/v3"
)

// What cron.WithSeconds() configures (option.go).
var parser = cron.NewParser(
	cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor,
)

type testCase struct {
	Spec string `json:"spec"`
	// Why the case is here.
	About string   `json:"about"`
	From  string   `json:"from"`
	Fires []string `json:"fires,omitempty"`
	Error string   `json:"error,omitempty"`
}

type fixture struct {
	Generator string     `json:"generator"`
	Library   string     `json:"library"`
	Parser    string     `json:"parser"`
	Cases     []testCase `json:"cases"`
}

const (
	count = 6
	// A Monday; robfig/cron's own tests use 2012 dates.
	from = "2012-07-09T00:00:00Z"
	// Not aligned to any interval since the epoch, to show where @every counts from.
	odd = "2012-07-09T10:17:23Z"
)

var cases = []struct{ spec, about, from string }{
	// Day fields: which count as restricted (robfig: a list item `*` or `?` without a step above 1 is a star).
	{"0 0 0 */5 Apr,Aug,Oct Mon", "issue 11: `*/5` restricts, so the day fields are ORed", from},
	{"0 0 0 */5 * *", "dom step alone", from},
	{"0 0 0 * * */2", "dow step alone", from},
	{"0 0 0 */5 * */2", "dom and dow steps combined: OR", from},
	{"0 0 0 */5 * MON", "dom step with a dow value: OR", from},
	{"0 0 0 1 * */3", "dom value with a dow step: OR", from},
	{"0 0 0 */1 * MON", "`*/1` is still a star: AND", from},
	{"0 0 0 1/5 * MON", "`a/n` restricts: OR", from},
	{"0 0 0 1-31 * MON", "a range covering every day still restricts: OR", from},
	{"0 0 0 *,5 * MON", "a list holding `*` is a star: AND", from},
	{"0 0 0 5,* * MON", "wherever `*` stands in the list", from},
	{"0 0 0 1,15 * MON", "both restricted: OR", from},
	{"0 0 0 13 * FRI", "both restricted: OR (not Friday the 13th)", from},
	{"0 0 0 * * MON", "dom star: AND", from},
	// `?`
	{"0 0 0 ? * MON", "`?` in dom", from},
	{"0 0 0 1 * ?", "`?` in dow", from},
	{"0 0 0 ? * ?", "`?` in both", from},
	{"0 0 0 ?/5 * MON", "`?` with a step", from},
	{"? 0 0 * * *", "`?` outside the day fields", from},
	// Day-of-week numbers
	{"0 0 0 * * 0", "Sunday is 0", from},
	{"0 0 0 * * 7", "7 is out of range in robfig/cron", from},
	{"0 0 0 * * 5-7", "a range to 7", from},
	{"0 0 0 * * 6", "Saturday is 6", from},
	// Names
	{"0 30 9 * * mon-fri", "day names, lower case, in a range", from},
	{"0 0 12 * * Sat,SUN", "day names, mixed case, in a list", from},
	{"0 0 0 1 jan,JUL *", "month names", from},
	{"0 0 0 1 JUL-DEC/2 *", "a month-name range with a step", from},
	{"0 0 0 1 MON *", "a day name in the month field", from},
	// Ranges, lists and steps
	{"0 10-50/20 * * * *", "a minute range with a step", from},
	{"5/20 * * * * *", "`a/n` runs to the field's maximum", from},
	{"0 0 1-23/6 * * *", "an hour range with a step", from},
	{"0 0 0 1-15/7 * *", "a dom range with a step", from},
	{"0 0 0 * * 1-5/2", "a dow range with a step", from},
	{"0 0 0 * * MON/2", "a dow name with a step", from},
	{"0 0 0 * * 1/2", "`a/n` in dow ends at Saturday", from},
	{"0 0 0 * * */4", "`*/4` in dow", from},
	{"*/61 * * * * *", "a step larger than the field", from},
	{"0 0 22-2 * * *", "a wrap-around range", from},
	{"0 0 0 1,,15 * *", "an empty list item", from},
	// Not in robfig/cron
	{"0 0 0 * * MON#2", "`#` (n-th weekday)", from},
	{"0 0 0 L * *", "`L` (last)", from},
	// Macros
	{"@yearly", "macro", from},
	{"@annually", "macro", from},
	{"@monthly", "macro", from},
	{"@weekly", "macro", from},
	{"@daily", "macro", from},
	{"@midnight", "macro", from},
	{"@hourly", "macro", from},
	{"@DAILY", "macros are case-sensitive in robfig/cron", from},
	{"CRON_TZ=Asia/Tokyo 0 0 9 * * *", "a time zone prefix", from},
	{"TZ=Asia/Tokyo @daily", "a time zone prefix on a macro", from},
	// @every: counted from the schedule's start
	{"@every 1h30m", "@every from an aligned start", from},
	{"@every 1h30m", "@every from an unaligned start", odd},
	{"@every 90s", "@every from an unaligned start", odd},
	{"@every 1.5h", "a fractional Go duration", odd},
	{"@every 1500ms", "sub-second parts are truncated", odd},
	{"@every 500ms", "under a second rounds up to 1s", odd},
}

func main() {
	time.Local = time.UTC
	library := "github.com/robfig/cron/v3"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == library {
				library += "@" + dep.Version
			}
		}
	}
	out := fixture{
		Generator: "scripts/robfig-fixtures (go run .)",
		Library:   library,
		Parser:    "cron.WithSeconds(): Second | Minute | Hour | Dom | Month | Dow | Descriptor",
	}
	for _, c := range cases {
		tc := testCase{Spec: c.spec, About: c.about, From: c.from}
		schedule, err := parser.Parse(c.spec)
		if err != nil {
			tc.Error = err.Error()
		} else {
			t, _ := time.Parse(time.RFC3339, c.from)
			for i := 0; i < count; i++ {
				t = schedule.Next(t)
				if t.IsZero() {
					break
				}
				tc.Fires = append(tc.Fires, t.UTC().Format(time.RFC3339))
			}
		}
		out.Cases = append(out.Cases, tc)
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(out); err != nil {
		panic(err)
	}
}

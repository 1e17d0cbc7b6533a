package policy

import (
	"net/http"
	"time"
)

// parseDate parses an HTTP-date (RFC 9110 5.6.7) in any of its three
// forms: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete
// RFC 850 form ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6
// 08:49:37 1994"). As RFC 9111 section 4.2 asks of a cache, names are
// matched case-insensitively and a zone other than GMT makes the date
// invalid. ref is the time against which a two-digit RFC 850 year is read
// (RFC 9110 5.6.7: a year more than 50 years in the future is the most
// recent past year with the same last two digits); a zero ref reads 69-99
// as 19xx and 00-68 as 20xx. The result is in UTC. It does not allocate.
func parseDate(s string, ref time.Time) (time.Time, bool) {
	s = trimOWS(s)
	var p dateParser
	p.s = s
	// The day name ends with "," in the first two forms and " " in asctime.
	name := p.word()
	if name == "" {
		return time.Time{}, false
	}
	if p.eat(',') {
		if !isDayName(name, len(name) > 3) {
			return time.Time{}, false
		}
		if !p.eat(' ') {
			return time.Time{}, false
		}
		if len(name) == 3 {
			return p.imfFixdate()
		}
		return p.rfc850(ref)
	}
	if !isDayName(name, false) || !p.eat(' ') {
		return time.Time{}, false
	}
	return p.asctime()
}

type dateParser struct{ s string }

// word consumes ASCII letters.
func (p *dateParser) word() string {
	n := 0
	for n < len(p.s) && ('a' <= lower(p.s[n]) && lower(p.s[n]) <= 'z') {
		n++
	}
	w := p.s[:n]
	p.s = p.s[n:]
	return w
}

func (p *dateParser) eat(c byte) bool {
	if p.s != "" && p.s[0] == c {
		p.s = p.s[1:]
		return true
	}
	return false
}

// digits consumes exactly n digits.
func (p *dateParser) digits(n int) (int, bool) {
	if len(p.s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := p.s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.s = p.s[n:]
	return v, true
}

// clock consumes "HH:MM:SS".
func (p *dateParser) clock() (h, m, sec int, ok bool) {
	h, ok1 := p.digits(2)
	c1 := p.eat(':')
	m, ok2 := p.digits(2)
	c2 := p.eat(':')
	sec, ok3 := p.digits(2)
	return h, m, sec, ok1 && ok2 && ok3 && c1 && c2 && h < 24 && m < 60 && sec < 61
}

// gmt consumes " GMT" and reports whether nothing follows.
func (p *dateParser) gmt() bool {
	if !p.eat(' ') {
		return false
	}
	return equalFold(p.s, "GMT")
}

// imfFixdate parses "06 Nov 1994 08:49:37 GMT" (after "Sun, ").
func (p *dateParser) imfFixdate() (time.Time, bool) {
	day, ok := p.digits(2)
	if !ok || !p.eat(' ') {
		return time.Time{}, false
	}
	mon := monthOf(p.word())
	if mon == 0 || !p.eat(' ') {
		return time.Time{}, false
	}
	year, ok := p.digits(4)
	if !ok || !p.eat(' ') {
		return time.Time{}, false
	}
	h, m, sec, ok := p.clock()
	if !ok || !p.gmt() {
		return time.Time{}, false
	}
	return mkdate(year, mon, day, h, m, sec)
}

// rfc850 parses "06-Nov-94 08:49:37 GMT" (after "Sunday, ").
func (p *dateParser) rfc850(ref time.Time) (time.Time, bool) {
	day, ok := p.digits(2)
	if !ok || !p.eat('-') {
		return time.Time{}, false
	}
	mon := monthOf(p.word())
	if mon == 0 || !p.eat('-') {
		return time.Time{}, false
	}
	yy, ok := p.digits(2)
	if !ok || !p.eat(' ') {
		return time.Time{}, false
	}
	h, m, sec, ok := p.clock()
	if !ok || !p.gmt() {
		return time.Time{}, false
	}
	var year int
	if ref.IsZero() {
		year = 1900 + yy
		if yy < 69 {
			year += 100
		}
	} else {
		// The latest year ending in yy that is at most 50 years after ref.
		limit := ref.UTC().Year() + 50
		year = limit - ((limit-yy)%100+100)%100
	}
	return mkdate(year, mon, day, h, m, sec)
}

// asctime parses "Nov  6 08:49:37 1994" (after "Sun ").
func (p *dateParser) asctime() (time.Time, bool) {
	mon := monthOf(p.word())
	if mon == 0 || !p.eat(' ') {
		return time.Time{}, false
	}
	var day int
	if p.eat(' ') {
		d, ok := p.digits(1)
		if !ok {
			return time.Time{}, false
		}
		day = d
	} else {
		d, ok := p.digits(2)
		if !ok {
			return time.Time{}, false
		}
		day = d
	}
	if !p.eat(' ') {
		return time.Time{}, false
	}
	h, m, sec, ok := p.clock()
	if !ok || !p.eat(' ') {
		return time.Time{}, false
	}
	year, ok := p.digits(4)
	if !ok || p.s != "" {
		return time.Time{}, false
	}
	return mkdate(year, mon, day, h, m, sec)
}

// mkdate builds the time, refusing days the month does not have.
func mkdate(year int, mon time.Month, day, h, m, sec int) (time.Time, bool) {
	if sec == 60 {
		sec = 59 // a leap second: the nearest earlier representable time (4.2)
	}
	t := time.Date(year, mon, day, h, m, sec, 0, time.UTC)
	if day < 1 || t.Day() != day {
		return time.Time{}, false
	}
	return t, true
}

var months = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func monthOf(w string) time.Month {
	for i, m := range months {
		if equalFold(w, m) {
			return time.Month(i + 1)
		}
	}
	return 0
}

var (
	dayNames     = [...]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	longDayNames = [...]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)

func isDayName(w string, long bool) bool {
	names := dayNames[:]
	if long {
		names = longDayNames[:]
	}
	for _, n := range names {
		if equalFold(w, n) {
			return true
		}
	}
	return false
}

// headerDate parses the first line of the date-valued field name in h.
// Several lines with different values count as invalid (RFC 9111 4.2.1:
// duplicates make the information untrustworthy).
func headerDate(h http.Header, name string, ref time.Time) (time.Time, bool) {
	lines := h[name]
	if len(lines) == 0 {
		return time.Time{}, false
	}
	for _, l := range lines[1:] {
		if trimOWS(l) != trimOWS(lines[0]) {
			return time.Time{}, false
		}
	}
	return parseDate(lines[0], ref)
}

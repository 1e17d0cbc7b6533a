package cache

import (
	"encoding/binary"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/cache/policy"
)

// object is a stored response as the cache uses it: decoded once (by
// the store that keeps it in memory, once per entry) and then shared,
// read-only, by every request it answers.
type object struct {
	status int
	// header is what was stored (hop-by-hop fields removed). Every value
	// slice has len == cap, so a handler that appends to a field of a
	// response copied from it allocates instead of writing into shared
	// memory.
	header       http.Header
	requestTime  time.Time
	responseTime time.Time
	// varyNames are the request fields the response's Vary names
	// (canonical, sorted), varyValues the normalized values the request
	// that produced it had ("\x00" for an absent field); star for Vary: *.
	varyNames  []string
	varyValues []string
	star       bool
	// lifetime is the freshness lifetime (RFC 9111 4.2.1, or heuristic,
	// or Surrogate-Control's max-age), fixed when the response was
	// received or last validated.
	lifetime time.Duration
	// surrogate is Surrogate-Control's max-age in seconds, -1 without
	// one: it replaces the origin's freshness for this cache.
	surrogate int64
	// dirs is the stored Cache-Control, parsed once.
	dirs policy.Directives
}

const metaVersion = 1

// errMeta is returned for metadata this version cannot read; the entry
// is then treated as absent (and replaced by the next fill).
var errMeta = errors.New("cache: unreadable stored metadata")

// encode serializes o: the format is private to this package, versioned so
// that an older instance sharing a Redis store reads a newer entry as a
// miss rather than wrongly.
func (o *object) encode() []byte {
	n := 32
	for k, vs := range o.header {
		n += len(k) + 4
		for _, v := range vs {
			n += len(v) + 2
		}
	}
	for i := range o.varyNames {
		n += len(o.varyNames[i]) + len(o.varyValues[i]) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, metaVersion)
	b = binary.AppendUvarint(b, uint64(o.status))
	b = binary.AppendVarint(b, o.requestTime.UnixNano())
	b = binary.AppendVarint(b, o.responseTime.UnixNano())
	b = binary.AppendVarint(b, int64(o.lifetime))
	b = binary.AppendVarint(b, o.surrogate)
	star := byte(0)
	if o.star {
		star = 1
	}
	b = append(b, star)
	b = binary.AppendUvarint(b, uint64(len(o.varyNames)))
	for i := range o.varyNames {
		b = appendString(b, o.varyNames[i])
		b = appendString(b, o.varyValues[i])
	}
	b = binary.AppendUvarint(b, uint64(len(o.header)))
	for k, vs := range o.header {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeObject parses what encode wrote.
func decodeObject(b []byte) (*object, error) {
	d := decoder{b: b}
	if d.byte() != metaVersion {
		return nil, errMeta
	}
	o := &object{}
	o.status = int(d.uvarint())
	o.requestTime = time.Unix(0, d.varint())
	o.responseTime = time.Unix(0, d.varint())
	o.lifetime = time.Duration(d.varint())
	o.surrogate = d.varint()
	o.star = d.byte() == 1
	nv := d.count()
	o.varyNames = make([]string, 0, nv)
	o.varyValues = make([]string, 0, nv)
	for range nv {
		o.varyNames = append(o.varyNames, d.string())
		o.varyValues = append(o.varyValues, d.string())
	}
	nh := d.count()
	o.header = make(http.Header, nh)
	for range nh {
		k := d.string()
		nvals := d.count()
		vs := make([]string, 0, nvals)
		for range nvals {
			vs = append(vs, d.string())
		}
		o.header[k] = vs[:len(vs):len(vs)]
	}
	if d.err || len(d.b) != 0 || o.status < 100 || o.status > 999 {
		return nil, errMeta
	}
	o.dirs = policy.ParseCacheControl(o.header)
	return o, nil
}

// decoder reads encode's format; a short or corrupt input sets err and
// yields zero values, so decodeObject checks once at the end.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in what is left (each item takes at
// least a byte), so a corrupt count cannot make a huge allocation.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.err = true
		d.b = nil
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.count()
	if d.err {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

package yamlsubset

import (
	"unicode/utf8"
)

// specials are the plain scalars that go-yaml (YAML 1.1, as sigs.k8s.io/yaml reads it) resolves to
// something other than a string, with the value JSON decoding then gives. The floats and the merge
// key are marked by a nil entry in unsupported: those documents are left to go-yaml.
var specials = map[string]any{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"true": true, "True": true, "TRUE": true,
	"on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false,
	"false": false, "False": false, "FALSE": false,
	"off": false, "Off": false, "OFF": false,
	"~": nil, "null": nil, "Null": nil, "NULL": nil,
	".nan": unsupported{}, ".NaN": unsupported{}, ".NAN": unsupported{},
	".inf": unsupported{}, ".Inf": unsupported{}, ".INF": unsupported{},
	"+.inf": unsupported{}, "+.Inf": unsupported{}, "+.INF": unsupported{},
	"-.inf": unsupported{}, "-.Inf": unsupported{}, "-.INF": unsupported{},
	"<<": unsupported{},
}

type unsupported struct{}

// special says whether a plain scalar that starts with c may be one of specials.
func special(c byte) bool {
	switch c {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~', '.', '+', '-', '<':
		return true
	}
	return false
}

// scalar resolves a plain scalar as go-yaml does, for the forms the subset knows: strings that
// cannot be read as anything else, decimal integers that fit in int64, booleans and null.
func scalar(s []byte) (any, bool) {
	if len(s) == 0 {
		return nil, false
	}
	c := s[0]
	if special(c) {
		if v, ok := specials[string(s)]; ok {
			if _, no := v.(unsupported); no {
				return nil, false
			}
			return v, true
		}
	}
	switch {
	case c >= '0' && c <= '9':
		if v, ok := integer(s); ok {
			return v, true
		}
		// "500m" and "128Mi" are strings; "0x1f", "1_000", "1e3", "0755" and "2001-12-14" are not.
		if mayBeNumber(s) {
			return nil, false
		}
		return string(s), true
	case c == '-':
		// "-5" is a number; "--flag" and "-v" cannot be one (nor a float or timestamp).
		if len(s) > 1 && (s[1] == '-' || isLetter(s[1])) {
			return string(s), true
		}
		return integer(s)
	case c == '.':
		// ".5" is a float; "./dir" and ".config" cannot be one.
		if len(s) > 1 && (s[1] == '/' || s[1] == '.' || isLetter(s[1])) {
			return string(s), true
		}
		return nil, false
	case isLetter(c) || c == '_' || c == '/' || c == '$' || c >= utf8.RuneSelf:
		return strValue(s), true
	}
	return nil, false
}

// integer reads 0 or a decimal integer of at most 18 digits without leading zeros (go-yaml reads a
// leading zero as octal), which always fits in int64.
func integer(s []byte) (any, bool) {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && (len(s) > 1 || neg)) {
		return nil, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return nil, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// mayBeNumber says whether go-yaml might read a plain scalar that starts with a digit as something
// other than a string: a timestamp (it starts with four digits and a dash), an integer with a base
// prefix, or anything made only of the characters of integers and floats.
func mayBeNumber(s []byte) bool {
	if len(s) >= 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X', 'o', 'O', 'b', 'B':
			return true
		}
	}
	if len(s) >= 5 && s[4] == '-' && isDigits(s[:4]) {
		return true
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '+' && c != '-' && c != 'e' && c != 'E' {
			return false
		}
	}
	return true
}

func isDigits(s []byte) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// quoted reads a single- or double-quoted scalar that closes on its line, returning the string and
// the bytes consumed. Escapes other than \" \\ \/ \n \t \r and \uXXXX (no surrogates) are left to
// go-yaml.
func quoted(t []byte) (string, int, bool) {
	q := t[0]
	var buf []byte
	start := 1
	for i := 1; i < len(t); i++ {
		c := t[i]
		switch {
		case c == q && q == '\'' && i+1 < len(t) && t[i+1] == '\'':
			buf = append(buf, t[start:i+1]...)
			i++
			start = i + 1
		case c == q:
			if buf == nil {
				return str(t[start:i]), i + 1, true
			}
			return string(append(buf, t[start:i]...)), i + 1, true
		case c == '\\' && q == '"':
			if i+1 >= len(t) {
				return "", 0, false
			}
			buf = append(buf, t[start:i]...)
			n, ok := escape(t[i+1:], &buf)
			if !ok {
				return "", 0, false
			}
			i += n
			start = i + 1
		}
	}
	return "", 0, false
}

// escape appends the character of the escape sequence that e starts after its backslash, and says
// how many bytes of e it took.
func escape(e []byte, buf *[]byte) (int, bool) {
	switch e[0] {
	case '"', '\\', '/':
		*buf = append(*buf, e[0])
	case 'n':
		*buf = append(*buf, '\n')
	case 't':
		*buf = append(*buf, '\t')
	case 'r':
		*buf = append(*buf, '\r')
	case 'u':
		if len(e) < 5 {
			return 0, false
		}
		var r rune
		for _, c := range e[1:5] {
			var d byte
			switch {
			case c >= '0' && c <= '9':
				d = c - '0'
			case c >= 'a' && c <= 'f':
				d = c - 'a' + 10
			case c >= 'A' && c <= 'F':
				d = c - 'A' + 10
			default:
				return 0, false
			}
			r = r<<4 | rune(d)
		}
		if r >= 0xd800 && r <= 0xdfff {
			return 0, false
		}
		*buf = utf8.AppendRune(*buf, r)
		return 5, true
	default:
		return 0, false
	}
	return 1, true
}

// flow reads a flow collection written on one line: [a, b] and {k: v}, nested.
type flow struct {
	t     []byte
	pos   int
	depth int
}

func (f *flow) spaces() {
	for f.pos < len(f.t) && f.t[f.pos] == ' ' {
		f.pos++
	}
}

func (f *flow) value() (any, bool) {
	f.spaces()
	if f.pos >= len(f.t) {
		return nil, false
	}
	switch f.t[f.pos] {
	case '[':
		return f.sequence()
	case '{':
		return f.mapping()
	case '"', '\'':
		s, n, ok := quoted(f.t[f.pos:])
		f.pos += n
		return s, ok
	}
	start := f.pos
	for f.pos < len(f.t) {
		c := f.t[f.pos]
		if c == ',' || c == ']' || c == '}' {
			break
		}
		if c == '[' || c == '{' || c == ':' || c == '#' {
			return nil, false
		}
		f.pos++
	}
	return scalar(trimRight(f.t[start:f.pos]))
}

func (f *flow) enter() bool {
	f.depth++
	f.pos++ // the opening bracket
	f.spaces()
	return f.depth <= maxDepth
}

func (f *flow) sequence() (any, bool) {
	if !f.enter() {
		return nil, false
	}
	s := make([]any, 0, 4)
	if f.pos < len(f.t) && f.t[f.pos] == ']' {
		f.pos++
		f.depth--
		return s, true
	}
	for {
		v, ok := f.value()
		if !ok {
			return nil, false
		}
		s = append(s, v)
		if !f.separator(']') {
			return nil, false
		}
		if f.t[f.pos-1] == ']' {
			f.depth--
			return s, true
		}
	}
}

func (f *flow) mapping() (any, bool) {
	if !f.enter() {
		return nil, false
	}
	m := make(map[string]any, 4)
	if f.pos < len(f.t) && f.t[f.pos] == '}' {
		f.pos++
		f.depth--
		return m, true
	}
	for {
		k, ok := f.key()
		if !ok {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		v, ok := f.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		if !f.separator('}') {
			return nil, false
		}
		if f.t[f.pos-1] == '}' {
			f.depth--
			return m, true
		}
	}
}

// key reads a flow mapping's key and the ": " after it.
func (f *flow) key() (string, bool) {
	if f.pos >= len(f.t) {
		return "", false
	}
	var k string
	if c := f.t[f.pos]; c == '"' || c == '\'' {
		s, n, ok := quoted(f.t[f.pos:])
		if !ok || n > maxKey {
			return "", false
		}
		k, f.pos = s, f.pos+n
	} else {
		start := f.pos
		for f.pos < len(f.t) && isKeyByte(f.t[f.pos]) {
			f.pos++
		}
		if !plainKey(f.t[start:f.pos]) {
			return "", false
		}
		k = str(f.t[start:f.pos])
	}
	if f.pos+1 >= len(f.t) || f.t[f.pos] != ':' || f.t[f.pos+1] != ' ' {
		return "", false
	}
	f.pos += 2
	return k, true
}

// separator consumes the "," between entries or the closing bracket; a "," must be followed by
// another entry (a trailing comma is left to go-yaml).
func (f *flow) separator(closing byte) bool {
	f.spaces()
	if f.pos >= len(f.t) {
		return false
	}
	switch f.t[f.pos] {
	case closing:
		f.pos++
		return true
	case ',':
		f.pos++
		f.spaces()
		return f.pos < len(f.t) && f.t[f.pos] != closing && f.t[f.pos] != ','
	}
	return false
}

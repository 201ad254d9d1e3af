package yamlsubset

import (
	"unicode/utf8"
)

// maxDepth bounds nesting; deeper documents are left to go-yaml.
const maxDepth = 64

// maxKey is below go-yaml's limit of 1024 characters for a key (a "simple key" in YAML's terms).
const maxKey = 1000

// line is a line with content: its indentation in spaces and the text after it, with trailing spaces
// removed. Blank lines and comment lines are dropped before parsing: they never carry a value in
// the subset (block scalars, where they would, are outside it).
type line struct {
	indent int
	text   []byte
}

type parser struct {
	lines []line
	next  int // the first line not yet consumed
	depth int
}

// Decode decodes one YAML document whose root is a block mapping. ok is false when the document
// is outside the subset, or is not valid YAML: the caller then decodes it with go-yaml, which
// gives the value or the error.
func Decode(doc []byte) (obj map[string]any, ok bool) {
	if !printable(doc) {
		return nil, false
	}
	p := parser{lines: contentLines(doc)}
	if len(p.lines) == 0 || isEntry(p.lines[0].text) {
		return nil, false
	}
	first := p.lines[0]
	p.next = 1
	m, ok := p.mapping(first.indent, first.text)
	if !ok || p.next != len(p.lines) {
		return nil, false
	}
	return m, true
}

// printable accepts the characters go-yaml reads without complaint and that are not line breaks
// other than '\n': no tabs (they make indentation questions), no carriage returns, no byte order
// mark, no C0 or C1 controls, no Unicode line separators.
func printable(doc []byte) bool {
	for i := 0; i < len(doc); {
		c := doc[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(doc[i:])
		switch {
		case r == utf8.RuneError && n == 1, r < 0xa0, r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
			return false
		}
		i += n
	}
	return true
}

func contentLines(doc []byte) []line {
	n := 1
	for _, c := range doc {
		if c == '\n' {
			n++
		}
	}
	out := make([]line, 0, n)
	for len(doc) > 0 {
		var l []byte
		l, doc = cut(doc)
		indent := 0
		for indent < len(l) && l[indent] == ' ' {
			indent++
		}
		text := trimRight(l[indent:])
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		out = append(out, line{indent: indent, text: text})
	}
	return out
}

func cut(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

func (p *parser) enter() bool {
	p.depth++
	return p.depth <= maxDepth
}

func (p *parser) leave() { p.depth-- }

// isEntry says whether text starts a block sequence entry: "-" alone or followed by a space.
func isEntry(text []byte) bool {
	return len(text) > 0 && text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}

// mapping reads a block mapping whose keys are at column n, the first entry being text.
func (p *parser) mapping(n int, text []byte) (map[string]any, bool) {
	if !p.enter() {
		return nil, false
	}
	defer p.leave()
	m := make(map[string]any, 4)
	for {
		key, rest, ok := splitKey(text)
		if !ok {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		v, ok := p.value(n, rest, true)
		if !ok {
			return nil, false
		}
		m[key] = v
		if p.next == len(p.lines) {
			return m, true
		}
		l := p.lines[p.next]
		if l.indent < n {
			return m, true
		}
		// A deeper line here would continue a multi-line scalar; an entry would be an error.
		if l.indent > n || isEntry(l.text) {
			return nil, false
		}
		text = l.text
		p.next++
	}
}

// sequence reads a block sequence whose dashes are at column n, the first entry being text.
func (p *parser) sequence(n int, text []byte) ([]any, bool) {
	if !p.enter() {
		return nil, false
	}
	defer p.leave()
	s := make([]any, 0, 4)
	for {
		rest := text[1:]
		sp := 0
		for sp < len(rest) && rest[sp] == ' ' {
			sp++
		}
		rest = rest[sp:]
		var v any
		var ok bool
		switch {
		case len(rest) == 0 || rest[0] == '#':
			v, ok = p.value(n, nil, false)
		case isEntry(rest):
			return nil, false // "- - x": a compact nested sequence
		default:
			if _, _, isKey := splitKey(rest); isKey {
				v, ok = p.mapping(n+1+sp, rest)
			} else {
				v, ok = inline(rest)
			}
		}
		if !ok {
			return nil, false
		}
		s = append(s, v)
		if p.next == len(p.lines) {
			return s, true
		}
		l := p.lines[p.next]
		if l.indent < n || (l.indent == n && !isEntry(l.text)) {
			return s, true
		}
		if l.indent > n {
			return nil, false
		}
		text = l.text
		p.next++
	}
}

// value reads the value of a mapping entry or a sequence entry of the collection at column n: rest
// is what follows the key's colon or the dash on its line.
func (p *parser) value(n int, rest []byte, inMapping bool) (any, bool) {
	rest = trimLeft(rest)
	if len(rest) > 0 && rest[0] != '#' {
		return inline(rest)
	}
	// Nothing on the line: the value is the block below, or null.
	if p.next < len(p.lines) {
		l := p.lines[p.next]
		if l.indent > n {
			p.next++
			return p.node(l.indent, l.text)
		}
		// "key:" followed by "- x" at the key's own column: YAML's indentless sequence.
		if inMapping && l.indent == n && isEntry(l.text) {
			p.next++
			return p.sequence(n, l.text)
		}
	}
	return nil, true
}

// node reads a value that begins a line at column col.
func (p *parser) node(col int, text []byte) (any, bool) {
	if isEntry(text) {
		return p.sequence(col, text)
	}
	if _, _, ok := splitKey(text); ok {
		return p.mapping(col, text)
	}
	return inline(text)
}

// splitKey splits "key: rest" (or "key:" at the end of the line). ok is false when text does not
// start with a key of the subset.
func splitKey(t []byte) (key string, rest []byte, ok bool) {
	if t[0] == '"' || t[0] == '\'' {
		s, n, ok := quoted(t)
		if !ok || n > maxKey || n >= len(t) || t[n] != ':' || (n+1 < len(t) && t[n+1] != ' ') {
			return "", nil, false
		}
		return s, t[n+1:], true
	}
	for i, c := range t {
		if c == ':' && (i+1 == len(t) || t[i+1] == ' ') {
			if !plainKey(t[:i]) {
				return "", nil, false
			}
			return str(t[:i]), t[i+1:], true
		}
		if !isKeyByte(c) {
			return "", nil, false
		}
	}
	return "", nil, false
}

// plainKey accepts an unquoted key that go-yaml reads as a string.
func plainKey(k []byte) bool {
	if len(k) == 0 || len(k) > maxKey || !(isLetter(k[0]) || k[0] == '_' || k[0] == '$' || k[0] == '/') {
		return false
	}
	_, special := specials[string(k)]
	return !special
}

func isKeyByte(c byte) bool {
	return isLetter(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '/' || c == '$' || c == '~' || c == '@' || c == '+'
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// inline reads a value written on one line (t starts with it and has no leading space): a flow
// collection, a quoted scalar or a plain scalar, and an optional comment after it.
func inline(t []byte) (any, bool) {
	switch t[0] {
	case '[', '{':
		f := flow{t: t}
		v, ok := f.value()
		if !ok || !onlyComment(t[f.pos:]) {
			return nil, false
		}
		return v, true
	case '"', '\'':
		s, n, ok := quoted(t)
		if !ok || !onlyComment(t[n:]) {
			return nil, false
		}
		return s, true
	}
	end := len(t)
	for i, c := range t {
		if c == '#' && i > 0 && t[i-1] == ' ' {
			end = i
			break
		}
		// ": " inside a plain scalar is a mapping go-yaml refuses in this place.
		if c == ':' && (i+1 == len(t) || t[i+1] == ' ') {
			return nil, false
		}
	}
	return scalar(trimRight(t[:end]))
}

// onlyComment says whether what follows a value on its line is nothing or a comment.
func onlyComment(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if b[0] != ' ' {
		return false
	}
	b = trimLeft(b)
	return len(b) == 0 || b[0] == '#'
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

func trimRight(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

package main

import (
	"encoding/binary"
	"unicode/utf8"
)

// A command's output, for a host that writes it as JSON strings (a streamed exec: server-sent events
// of JSON). Escaping here costs the agent a table lookup per byte on its own core; the host would pay
// a string decode, JSON.stringify and an encode. While a channel's bytes are valid UTF-8 they go as
// escaped text (channel 3 or 4): exactly what JSON.stringify writes between the quotes for the same
// text, an incomplete last character held back for the next read as Node's StringDecoder holds it.
// From the first invalid byte on, the channel goes raw (1 or 2) and the host decodes it as before,
// fed the held bytes first, then the rest: what its decoder would have been fed all along.
const textChannelOffset = 2

var jsonExtra [256]byte
var jsonEscape [256]string

func init() {
	const hex = "0123456789abcdef"
	for b := 0; b < 0x20; b++ {
		jsonEscape[b] = `\u00` + string(hex[b>>4]) + string(hex[b&15])
	}
	for b, short := range map[byte]string{'\b': `\b`, '\t': `\t`, '\n': `\n`, '\f': `\f`, '\r': `\r`, '"': `\"`, '\\': `\\`} {
		jsonEscape[b] = short
	}
	for b := range jsonEscape {
		if jsonEscape[b] != "" {
			jsonExtra[b] = byte(len(jsonEscape[b]) - 1)
		}
	}
}

type jsonText struct {
	carry []byte
	raw   bool
	out   []byte
}

// piece is what to send: raw bytes (a frame's payload after the channel byte), or a whole text
// frame built in place (textFrame).
type piece struct {
	text    bool
	payload []byte
}

// write turns bytes read from channel (1 stdout, 2 stderr) into what to send; the pieces are valid
// until the next call.
func (t *jsonText) write(channel byte, data []byte) []piece {
	if t.raw {
		return []piece{{payload: data}}
	}
	bytes := data
	if len(t.carry) > 0 {
		bytes = append(t.carry, data...)
	}
	cut := len(bytes) - heldBack(bytes)
	if !utf8.Valid(bytes[:cut]) {
		t.raw = true
		held := t.carry
		t.carry = nil
		if len(held) > 0 {
			return []piece{{payload: held}, {payload: data}}
		}
		return []piece{{payload: data}}
	}
	var pieces []piece
	if cut > 0 {
		pieces = append(pieces, piece{text: true, payload: t.textFrame(channel, bytes[:cut])})
	}
	t.carry = append([]byte(nil), bytes[cut:]...)
	return pieces
}

// end is what is left when the channel closes: an incomplete character, raw (the host's decoder ends it).
func (t *jsonText) end() []byte {
	held := t.carry
	t.carry = nil
	return held
}

// textFrame builds an output frame (its header left to writer.sendBuilt): the text channel, u32 bytes
// of output it stands for (the host's credit), then the escaped bytes. One pass: runs that need no
// escape (found 8 bytes at a time) are copied whole; the buffer grows only when escapes lengthen it.
func (t *jsonText) textFrame(channel byte, text []byte) []byte {
	const head = headerSize + 1 + 4
	if want := head + len(text) + len(text)/8 + 16; cap(t.out) < want {
		t.out = make([]byte, 0, want)
	}
	out := t.out[:head]
	out[headerSize] = channel + textChannelOffset
	binary.BigEndian.PutUint32(out[headerSize+1:], uint32(len(text)))
	from := 0
	for i := 0; i < len(text); {
		if i+8 <= len(text) && !needsEscape8(binary.LittleEndian.Uint64(text[i:])) {
			i += 8
			continue
		}
		if b := text[i]; jsonExtra[b] != 0 {
			out = append(out, text[from:i]...)
			out = append(out, jsonEscape[b]...)
			from = i + 1
		}
		i++
	}
	out = append(out, text[from:]...)
	t.out = out[:0]
	return out
}

// needsEscape8 tells whether any of 8 bytes is below 0x20, '"' or '\\' (exact: the classic zero-byte test).
func needsEscape8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) bool { return (v-ones)&^v&highs != 0 }
	below := (x-ones*0x20)&^x&highs != 0
	return below || zero(x^(ones*'"')) || zero(x^(ones*'\\'))
}

// heldBack is how many trailing bytes Node's StringDecoder holds back as an incomplete character
// (its rule, src/string_decoder.cc), so that both sides cut the text at the same place.
func heldBack(data []byte) int {
	buffered := 0
	for i := len(data) - 1; i >= 0; i-- {
		buffered++
		b := data[i]
		if b&0xc0 == 0x80 {
			if buffered >= 4 || i == 0 {
				return 0
			}
			continue
		}
		var missing int
		switch {
		case b&0xe0 == 0xc0:
			missing = 2
		case b&0xf0 == 0xe0:
			missing = 3
		case b&0xf8 == 0xf0:
			missing = 4
		default:
			return 0
		}
		if buffered >= missing {
			return 0
		}
		return buffered
	}
	return 0
}

package main

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"testing"
)

// The word-at-a-time scan escapes exactly what a byte-by-byte pass over the table does, at every offset.
func TestEscapeMatchesBytewise(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 2000; round++ {
		text := make([]byte, rng.Intn(200))
		for i := range text {
			switch rng.Intn(4) {
			case 0:
				text[i] = byte(rng.Intn(0x20))
			case 1:
				text[i] = `"\a~`[rng.Intn(4)]
			default:
				text[i] = byte(rng.Intn(256))
			}
		}
		var want []byte
		for _, b := range text {
			if jsonEscape[b] != "" {
				want = append(want, jsonEscape[b]...)
			} else {
				want = append(want, b)
			}
		}
		var tx jsonText
		frame := tx.textFrame(1, text)
		got := frame[headerSize+5:]
		if frame[headerSize] != 3 || binary.BigEndian.Uint32(frame[headerSize+1:]) != uint32(len(text)) || !bytes.Equal(got, want) {
			t.Fatalf("textFrame(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestHeldBack(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want int
	}{
		{[]byte("abc"), 0}, {[]byte("a\xc3"), 1}, {[]byte("a\xe2\x82"), 2}, {[]byte("a\xe2\x82\xac"), 0},
		{[]byte("\xf0\x9f\x98"), 3}, {[]byte("\x80\x80"), 0}, {[]byte("a\xff"), 0},
	} {
		if got := heldBack(c.in); got != c.want {
			t.Errorf("heldBack(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

package countcheck

import (
	"math/rand/v2"
	"strings"
)

// Texts returns n random texts of seed. Text i depends only on seed and i.
func Texts(seed uint64, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = Text(rand.New(rand.NewPCG(seed, uint64(i))))
	}
	return out
}

// Text makes one text: a few pieces of the kinds counters get wrong, joined
// by spaces, nothing, line breaks or punctuation.
func Text(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(10) {
		b.WriteString(pick(r, joiners))
		b.WriteString(piece(r))
	}
	if r.IntN(4) == 0 {
		b.WriteString(pick(r, joiners))
	}
	return b.String()
}

var joiners = []string{" ", " ", " ", "", "", "\n", "\r\n", "\t", ". ", ", ", ": ", " (", ") ", "\"", "'", "!", "?",
	"/", "-", "_", ".", "@", "#", "$", "\u00a0", "\u3000", "\u200b", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f",
	"\u202e", "\u2066", "\u061c", "，", "。", "「", "」", "…", "—", "–", "«", "»", "‹"}

// kinds are the generators of pieces, each with its weight.
var kinds = []struct {
	weight int
	make   func(r *rand.Rand) string
}{
	{6, word}, {5, url}, {3, cutURL}, {2, notURL}, {3, cjk}, {4, emoji}, {2, flag}, {1, keycap}, {2, combining},
	{1, ligature}, {2, rtl}, {1, indic}, {1, hangul}, {2, mention}, {2, hashtag}, {1, email}, {1, symbol},
}

func piece(r *rand.Rand) string {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	n := r.IntN(total)
	for _, k := range kinds {
		if n < k.weight {
			return k.make(r)
		}
		n -= k.weight
	}
	return ""
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

func runes(r *rand.Rand, lo, hi rune, min, max int) string {
	var b strings.Builder
	for range min + r.IntN(max-min+1) {
		b.WriteRune(lo + rune(r.IntN(int(hi-lo+1))))
	}
	return b.String()
}

var words = []string{"IMAP", "login", "failures", "we", "are", "investigating", "Mail", "status", "update", "the",
	"a", "x", "é", "naïve", "Ünïcödé", "straße", "ſ", "K", "İstanbul", "ǅ", "ÿ", "über", "Überweisung", "façade",
	"123", "4", "v1.2.3", "e.g.", "i.e.", "U.S.A.", "3.14", "09:40", "10%", "99.9%", "...", "--", "__", "a_b", "a-b",
	"CAPS", "MiXeD", "Ελληνικά", "ι", "Ι", "Русский", "ёж", "Ⅻ", "ǈ"}

func word(r *rand.Rand) string { return pick(r, words) }

var (
	schemes = []string{"", "", "http://", "https://", "HTTPS://", "Http://", "https:/", "ftp://", "https://", "gemini://"}
	subs    = []string{"", "", "www.", "status.", "mail.", "a.", "my-site.", "my_site.", "a.b.", "xn--bcher-kva.", "-x.", "x-.", "ü.", "日本.", "пример.", "☃.", "1.", "s.", "_x."}
	names   = []string{"example", "runbox", "t", "mastodon", "bücher", "пример", "☃", "例え", "a", "xn--mgbh0fb", "x-y", "ex_ample", "EXAMPLE", "incident-cli", "123", "𝒳", "😀", "ſtatus", "KELVIN"}
	tlds    = []string{"com", "org", "net", "no", "de", "co", "io", "uk", "co.uk", "jp", "рф", "みんな", "中国", "香港", "भारत",
		"भारतम्", "onion", "community", "comcast", "app", "dev", "xn--p1ai", "xn--", "COM", "Com", "status", "runbox",
		"notatld", "c", "a1", "com1", "org-", "com@", "com+", "ninja", "cat", "shop", "tv", "ly", "info", "travel", "mail"}
	paths = []string{"", "", "/", "/status", "/incidents/2026-11-27-imap", "/a_b-c", "/wiki/Foo_(bar)", "/(a(b)c)", "/x(y)",
		"/a.b.", "/a,", "/a!", "/ü/ß", "/путь", "/%20", "/~user/", "/@user", "/@user/", "/a:b", "/a;b", "/#frag", "/a#b",
		"/é", "/a–b", "/日本", "/😀", "/a|b", "/a[1]", "/a*", "/a'", "/a=b+c", "/ι"}
	queries = []string{"", "", "?q=1", "?a=b&c=d", "?q=", "?q=x.", "?", "?q=(x)", "?utm_source=x#y", "?a!", "?ü"}
	ports   = []string{"", "", "", ":8080", ":", ":x", ":443"}
	around  = [][2]string{{"", ""}, {"", ""}, {"(", ")"}, {"\"", "\""}, {"<", ">"}, {"[", "]"}, {"", "."}, {"", ","},
		{"", "!"}, {"", "?"}, {"«", "»"}, {"「", "」"}, {"", "…"}, {"x", ""}, {"@", ""}, {"#", ""}, {"$", ""}, {"-", ""},
		{"_", ""}, {".", ""}, {"/", ""}, {"é", ""}, {"日本", ""}, {"\u200e", ""}, {"\u202e", ""}, {"\ufeff", ""}, {"", "é"}}
	tco = []string{"https://t.co/abc123", "http://t.co/x", "https://t.co/abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq", "https://t.co/ab?x=1", "https://t.co/ab/cd"}
)

func url(r *rand.Rand) string {
	if r.IntN(20) == 0 {
		return pick(r, tco)
	}
	u := pick(r, schemes) + pick(r, subs) + pick(r, names) + "." + pick(r, tlds) + pick(r, ports) + pick(r, paths) + pick(r, queries)
	if r.IntN(40) == 0 {
		u += "/" + strings.Repeat("a", 60+r.IntN(10)) // long path
	}
	if r.IntN(60) == 0 {
		u = pick(r, schemes) + strings.Repeat("a", 60+r.IntN(8)) + ".com" // a label near the 63 limit
	}
	a := around[r.IntN(len(around))]
	return a[0] + u + a[1]
}

// cutURL is a URL that truncate or a person cut short.
func cutURL(r *rand.Rand) string {
	u := url(r)
	rs := []rune(u)
	if len(rs) < 3 {
		return u
	}
	cut := string(rs[:1+r.IntN(len(rs)-1)])
	return cut + pick(r, []string{"…", "...", "", ".", "…", " …"})
}

func notURL(r *rand.Rand) string {
	return pick(r, []string{"www.runbox.…", "foo.runbox", "file.txt", "a.b", "node.js", "e.g.", "Mr.Smith", "3.50",
		"192.168.0.1", "http://192.168.0.1/x", "https://localhost:8080", "http://[::1]/", "1.2.3.4.com", "a..com",
		".com", "com.", "http://.com", "http://-a.com", "http://a-.com", "https://", "www.", "www..com", "x.xn--", "ab.c"})
}

func cjk(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return runes(r, 0x4e00, 0x9fff, 1, 6) // Han
	case 1:
		return runes(r, 0x3041, 0x3096, 1, 6) // Hiragana
	case 2:
		return runes(r, 0x30a1, 0x30fa, 1, 6) // Katakana
	case 3:
		return runes(r, 0xff01, 0xff5e, 1, 4) // full-width forms
	}
	return runes(r, 0x20000, 0x2a6df, 1, 3) // Han extension B
}

var (
	pictographs = []rune{0x1f600, 0x1f469, 0x1f468, 0x1f467, 0x1f466, 0x1f44d, 0x1f3f3, 0x1f3f4, 0x1f308, 0x2764, 0x1f48b,
		0x2620, 0x1f9d1, 0x1f384, 0x1f91d, 0x1f3fb, 0x263a, 0x2639, 0x2708, 0x1f680, 0x1f525, 0x26a0, 0x2705, 0x274c,
		0x1f6a8, 0x231a, 0x2b50, 0x1f4e7, 0x1f4ec, 0x00a9, 0x00ae, 0x2122, 0x203c, 0x2049, 0x1fae0, 0x1f979, 0x1f9ff,
		0x1f441, 0x1f5e8, 0x1f46f, 0x2640, 0x2642, 0x2695, 0x1f52c, 0x1f3cb, 0x26f9, 0x1f575, 0x1f926, 0x270c, 0x261d,
		0x1f590, 0x1f385, 0x1f46e, 0xe50a, 0x265f, 0x267e, 0x1f004, 0x1f170, 0x1f201, 0x1f21a, 0x3030, 0x303d, 0x3297}
	modifiers = []string{"", "", "", "\ufe0f", "\ufe0e", "\U0001f3fb", "\U0001f3ff", "\ufe0f\U0001f3fd", "\u20e3", "\U0001f3fc\ufe0f"}
	sequences = []string{
		"👩‍👩‍👧‍👦", "👨‍👩‍👧", "👩‍❤️‍👨", "👩‍❤️‍💋‍👩", "🏳️‍🌈", "🏴‍☠️", "👁‍🗨", "🧑‍🎄", "🧑‍🤝‍🧑", "🫱🏻‍🫲🏿",
		"👨🏽‍⚕️", "👩🏻‍🔬", "🏋️‍♀️", "🏃🏾‍♂️", "🤦‍♀️", "🧟‍♂️", "👯‍♀️", "❤️‍🔥", "😶‍🌫️", "🐻‍❄️", "👩‍👩‍👦",
		"🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
		"🏴\U000e0075\U000e0073\U000e0074\U000e0078\U000e007f", "🏴\U000e0067\U000e0062", "\u200d👩", "👩\u200d", "\ufe0f", "\u20e3",
	}
)

func emoji(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return pick(r, sequences)
	}
	var b strings.Builder
	for i := range 1 + r.IntN(3) {
		if i > 0 {
			b.WriteString(pick(r, []string{"\u200d", "\u200d", "", " "}))
		}
		b.WriteRune(pictographs[r.IntN(len(pictographs))])
		b.WriteString(pick(r, modifiers))
	}
	return b.String()
}

var countries = []string{"NO", "DE", "US", "GB", "JP", "FR", "UA", "EU", "UN", "AA", "ZZ", "XK", "AC", "TA", "QQ"}

func flag(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(2) {
		c := pick(r, countries)
		for _, l := range c {
			b.WriteRune(0x1f1e6 + l - 'A')
		}
	}
	if r.IntN(5) == 0 {
		b.WriteRune(0x1f1e6 + rune(r.IntN(26))) // a lone regional indicator
	}
	return b.String()
}

func keycap(r *rand.Rand) string {
	return pick(r, []string{"#", "*", "0", "1", "9"}) + pick(r, []string{"\ufe0f\u20e3", "\u20e3", "\ufe0f", "\ufe0e\u20e3"})
}

func combining(r *rand.Rand) string {
	base := pick(r, []string{"e", "a", "o", "A", "ñ", "i", "ı", "x", "😀", "日", "ה", " ", ""})
	var b strings.Builder
	b.WriteString(base)
	for range 1 + r.IntN(3) {
		b.WriteString(pick(r, []string{"\u0301", "\u0300", "\u0308", "\u0327", "\u0323", "\u0345", "\u20dd", "\u0336", "\u034f", "\u05b0", "\u0651", "\u3099"}))
	}
	return b.String()
}

func ligature(r *rand.Rand) string {
	return pick(r, []string{"ﬁ", "ﬂ", "ﬀ", "ﬃ", "ﬆ", "Ǆ", "ǆ", "Ĳ", "œ", "æ", "ﬁle.com", "ﬀ.org", "Ⓐ", "①", "㎞", "™", "℡", "℃", "Å", "Ω", "ﬀ"})
}

func rtl(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return runes(r, 0x05d0, 0x05ea, 1, 6) // Hebrew
	case 1:
		return runes(r, 0x0627, 0x064a, 1, 6) // Arabic
	case 2:
		return "\u202b" + runes(r, 0x05d0, 0x05ea, 1, 4) + "\u202c"
	}
	return pick(r, []string{"مرحبا", "שלום", "\u200fשלום\u200f", "\u0600١٢", "ﷺ", "لا", "\u202eabc\u202c", "\u2067abc\u2069"})
}

func indic(r *rand.Rand) string {
	return pick(r, []string{"क्षत्रिय", "नमस्ते", "हिन्दी", "क्\u200dष", "क्\u200cष", "ক্ষ", "த்", "ஸ்ரீ", "ไทย", "กำ", "ພາສາລາວ", "ཀྵ", "ශ්\u200dරී", "ഭാരതം", "ಕನ್ನಡ", "\u0915\u094d\u0937"})
}

func hangul(r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return runes(r, 0xac00, 0xd7a3, 1, 5)
	case 1:
		return "\u1100\u1161\u11a8" + pick(r, []string{"", "\u1100", "\u1161", "\u11a8"}) // jamo
	}
	return pick(r, []string{"한국", "\u1100\u1100\u1161", "\u1161\u11a8", "ᄀᄀᄀ각"})
}

func mention(r *rand.Rand) string {
	return pick(r, []string{"@", "＠"}) + pick(r, []string{"status", "alice", "a_b", "example.com", "user@mastodon.social", "ü", "x", "日本"})
}

func hashtag(r *rand.Rand) string {
	return pick(r, []string{"#", "＃"}) + pick(r, []string{"outage", "IMAP", "日本", "a_b", "1", "ü", "status.example.com"})
}

func email(r *rand.Rand) string {
	return pick(r, []string{"support@example.com", "a.b@mail.example.org", "x@y.no", "noc+x@runbox.com", "a@b"})
}

func symbol(r *rand.Rand) string {
	return pick(r, []string{"←", "→", "✓", "✔", "★", "☆", "♥", "°", "€", "£", "¥", "§", "¶", "•", "‰", "′", "″", "‴", "‵",
		"⁉", "‼", "\u2028", "\u2029", "\u0085", "\u00ad", "\ufffd", "\ufffe", "\uffff", "\U0010fffd", "\U000e0041", "\u180e"})
}

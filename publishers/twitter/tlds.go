package twitter

import (
	"strings"
	"sync"
)

// tlds holds the top-level domains findURLs knows: every two-letter country
// code in use and the common generic ones. twitter-text's own list
// (TldLists.java) holds all of IANA's, some 1,500; a TLD missing here makes a
// bare domain count max(23, its own weight) instead of 23, never less.
// The set is built at first use, not when the program starts.
var tlds = sync.OnceValue(func() map[string]bool { return tldSet(tldList) })

// tldList is the set as text: generic names, then country codes.
const tldList = "aero app art asia bank bar best bike biz blog blue build buzz cafe call camp care cat center chat " +
	"city click cloud club codes com community company computer consulting coop dev design digital " +
	"directory email energy engineering expert finance fit fun games gmbh gov group guru health help " +
	"host hosting inc info ink int jobs kim life link live llc ltd mail market media mil mobi moe " +
	"museum name net network news ninja one online ooo org page partners photo photos pink plus " +
	"post pro pub red rocks run sale school services shop site social software solutions space " +
	"status store stream studio support swiss systems team tech technology tel tips today tools " +
	"top travel uno vip website wiki win work works world wtf xxx xyz zone " +
	"ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs " +
	"bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec " +
	"ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy " +
	"hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz " +
	"la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx " +
	"my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re " +
	"ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th " +
	"tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw"

// maxTLD is the length of the longest name in tlds.
const maxTLD = 13

func tldSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(list) {
		m[t] = true
	}
	return m
}

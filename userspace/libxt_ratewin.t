# Tests of the ratewin match, in the format of iptables' extension tests
# (iptables/extensions/*.t): ":CHAIN,CHAIN" selects the chains the rules
# below are added to; a rule line is "RULE;SAVE;RESULT" where SAVE is the
# rule as iptables -S prints it ("=": unchanged, empty for FAIL) and RESULT
# is OK (must be added and saved exactly) or FAIL (must be refused).
# An optional fourth field "4" or "6" limits a line to iptables or
# ip6tables; lines without it are run with both.
:INPUT,FORWARD,OUTPUT
# the examples of the specification
-p tcp -m tcp --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN -m ratewin --ratewin-name ssh --ratewin-window 5/60s -j DROP;-p tcp -m tcp --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN -m ratewin --ratewin-name ssh --ratewin-window 5/1m -j DROP;OK
-p tcp -m tcp --dport 80 --tcp-flags FIN,SYN,RST,ACK SYN -m ratewin --ratewin-name http --ratewin-rate 50/minute --ratewin-burst 60 --ratewin-srcmask 24 -j DROP;-p tcp -m tcp --dport 80 --tcp-flags FIN,SYN,RST,ACK SYN -m ratewin --ratewin-name http --ratewin-srcmask 24 --ratewin-rate 50/minute --ratewin-burst 60 -j DROP;OK
-p tcp -m tcp --dport 443 --tcp-flags FIN,SYN,RST,ACK SYN -m ratewin --ratewin-name web --ratewin-rate 10/s --ratewin-window 100/1m --ratewin-conn-above 20 --ratewin-ban 10m -j DROP;-p tcp -m tcp --dport 443 --tcp-flags FIN,SYN,RST,ACK SYN -m ratewin --ratewin-name web --ratewin-rate 10/second --ratewin-window 100/1m --ratewin-conn-above 20 --ratewin-ban 10m -j DROP;OK
# sliding window; durations print in the largest exact unit
-m ratewin --ratewin-name w --ratewin-window 5/1m;=;OK
-m ratewin --ratewin-name w --ratewin-window 5/60s;-m ratewin --ratewin-name w --ratewin-window 5/1m;OK
-m ratewin --ratewin-name w --ratewin-window 5/60000ms;-m ratewin --ratewin-name w --ratewin-window 5/1m;OK
-m ratewin --ratewin-name w --ratewin-window 5/90000ms;-m ratewin --ratewin-name w --ratewin-window 5/90s;OK
-m ratewin --ratewin-name w --ratewin-window 5/3600s;-m ratewin --ratewin-name w --ratewin-window 5/1h;OK
-m ratewin --ratewin-name w --ratewin-window 5/24h;-m ratewin --ratewin-name w --ratewin-window 5/1d;OK
-m ratewin --ratewin-name w --ratewin-window 5/minute;-m ratewin --ratewin-name w --ratewin-window 5/1m;OK
-m ratewin --ratewin-name w --ratewin-window 100/250ms;=;OK
-m ratewin --ratewin-name w --ratewin-window 33/1500ms;=;OK
-m ratewin --ratewin-name w --ratewin-window 1/1ms;=;OK
-m ratewin --ratewin-name w --ratewin-window 10000000/30d;=;OK
-m ratewin --ratewin-name w --ratewin-window 0/1m;;FAIL
-m ratewin --ratewin-name w --ratewin-window 10000001/1m;;FAIL
-m ratewin --ratewin-name w --ratewin-window 5/60;;FAIL
-m ratewin --ratewin-name w --ratewin-window 5/0s;;FAIL
-m ratewin --ratewin-name w --ratewin-window 5/31d;;FAIL
-m ratewin --ratewin-name w --ratewin-window 5/1y;;FAIL
-m ratewin --ratewin-name w --ratewin-window 5;;FAIL
-m ratewin --ratewin-name w --ratewin-window /1m;;FAIL
-m ratewin --ratewin-name w --ratewin-window 5/1m --ratewin-window 6/1m;;FAIL
# token bucket in packets; burst 5 is the default and not shown
-m ratewin --ratewin-name r --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name r --ratewin-rate 10/s;-m ratewin --ratewin-name r --ratewin-rate 10/second;OK
-m ratewin --ratewin-name r --ratewin-rate 10/sec;-m ratewin --ratewin-name r --ratewin-rate 10/second;OK
-m ratewin --ratewin-name r --ratewin-rate 10;-m ratewin --ratewin-name r --ratewin-rate 10/second;OK
-m ratewin --ratewin-name r --ratewin-rate 50/minute;=;OK
-m ratewin --ratewin-name r --ratewin-rate 50/min;-m ratewin --ratewin-name r --ratewin-rate 50/minute;OK
-m ratewin --ratewin-name r --ratewin-rate 50/m;-m ratewin --ratewin-name r --ratewin-rate 50/minute;OK
-m ratewin --ratewin-name r --ratewin-rate 1/hour;=;OK
-m ratewin --ratewin-name r --ratewin-rate 1/h;-m ratewin --ratewin-name r --ratewin-rate 1/hour;OK
-m ratewin --ratewin-name r --ratewin-rate 1/day;=;OK
-m ratewin --ratewin-name r --ratewin-rate 1/d;-m ratewin --ratewin-name r --ratewin-rate 1/day;OK
-m ratewin --ratewin-name r --ratewin-rate 3/10s;=;OK
-m ratewin --ratewin-name r --ratewin-rate 3/1500ms;=;OK
-m ratewin --ratewin-name r --ratewin-rate 3/60s;-m ratewin --ratewin-name r --ratewin-rate 3/minute;OK
-m ratewin --ratewin-name r --ratewin-rate 1000000000/second;=;OK
-m ratewin --ratewin-name r --ratewin-rate 1/day --ratewin-burst 1000000;=;OK
-m ratewin --ratewin-name r --ratewin-rate 50/minute --ratewin-burst 60;=;OK
-m ratewin --ratewin-name r --ratewin-rate 50/minute --ratewin-burst 5;-m ratewin --ratewin-name r --ratewin-rate 50/minute;OK
-m ratewin --ratewin-name r --ratewin-rate 50/minute --ratewin-burst 1;=;OK
-m ratewin --ratewin-name r --ratewin-rate 50/minute --ratewin-burst 2147483648;=;OK
-m ratewin --ratewin-name r --ratewin-burst 60 --ratewin-rate 50/minute;-m ratewin --ratewin-name r --ratewin-rate 50/minute --ratewin-burst 60;OK
-m ratewin --ratewin-name r --ratewin-rate 0/second;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 1000000001/second;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 99999999999999999999999/second;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/fortnight;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/;;FAIL
-m ratewin --ratewin-name r --ratewin-rate /second;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 1.5/second;;FAIL
-m ratewin --ratewin-name r --ratewin-rate -1/second;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/999ms;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/2d;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/s --ratewin-burst 0;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/s --ratewin-burst 2147483649;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/s --ratewin-burst 64kb;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/s --ratewin-burst 10x;;FAIL
-m ratewin --ratewin-name r --ratewin-window 5/1m --ratewin-burst 10;;FAIL
-m ratewin --ratewin-name r --ratewin-rate 10/s --ratewin-rate 20/s;;FAIL
# token bucket in bytes; the default burst is one second of the rate
-m ratewin --ratewin-name b --ratewin-rate 512kb/s;=;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/sec;-m ratewin --ratewin-name b --ratewin-rate 512kb/s;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/second;-m ratewin --ratewin-name b --ratewin-rate 512kb/s;OK
-m ratewin --ratewin-name b --ratewin-rate 1mb/s;=;OK
-m ratewin --ratewin-name b --ratewin-rate 1024kb/s;-m ratewin --ratewin-name b --ratewin-rate 1mb/s;OK
-m ratewin --ratewin-name b --ratewin-rate 2048b/s;-m ratewin --ratewin-name b --ratewin-rate 2kb/s;OK
-m ratewin --ratewin-name b --ratewin-rate 1000b/s;=;OK
-m ratewin --ratewin-name b --ratewin-rate 1b/s;=;OK
-m ratewin --ratewin-name b --ratewin-rate 4096mb/s;=;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 64kb;=;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 65536;-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 64kb;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 1500;=;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 1500b;-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 1500;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 1mb;=;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 512kb;-m ratewin --ratewin-name b --ratewin-rate 512kb/s;OK
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 2048mb;=;OK
-m ratewin --ratewin-name b --ratewin-rate 0kb/s;;FAIL
-m ratewin --ratewin-name b --ratewin-rate 4097mb/s;;FAIL
-m ratewin --ratewin-name b --ratewin-rate 10kb/minute;;FAIL
-m ratewin --ratewin-name b --ratewin-rate 10kb/m;;FAIL
-m ratewin --ratewin-name b --ratewin-rate 10kb;;FAIL
-m ratewin --ratewin-name b --ratewin-rate 10gb/s;;FAIL
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 2049mb;;FAIL
-m ratewin --ratewin-name b --ratewin-rate 512kb/s --ratewin-burst 1gb;;FAIL
# concurrent connections
-m ratewin --ratewin-name c --ratewin-conn-above 20;=;OK
-m ratewin --ratewin-name c --ratewin-conn-above 1;=;OK
-m ratewin --ratewin-name c --ratewin-conn-above 1073741824;=;OK
-m ratewin --ratewin-name c --ratewin-conn-above 0;;FAIL
-m ratewin --ratewin-name c --ratewin-conn-above 1073741825;;FAIL
-m ratewin --ratewin-name c --ratewin-conn-above many;;FAIL
# count-all, ban, upto, full
-m ratewin --ratewin-name k --ratewin-window 5/1m --ratewin-count-all;=;OK
-m ratewin --ratewin-name k --ratewin-window 5/1m --ratewin-count-all --ratewin-ban 10m;=;OK
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-ban 1500ms;=;OK
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-ban 600s;-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-ban 10m;OK
-m ratewin --ratewin-name k --ratewin-conn-above 3 --ratewin-ban 30d;=;OK
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-upto;=;OK
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-full under;=;OK
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-full over;-m ratewin --ratewin-name k --ratewin-rate 10/second;OK
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-count-all;;FAIL
-m ratewin --ratewin-name k --ratewin-conn-above 3 --ratewin-count-all;;FAIL
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-ban 0s;;FAIL
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-ban 31d;;FAIL
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-ban 10;;FAIL
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-full maybe;;FAIL
-m ratewin --ratewin-name k --ratewin-rate 10/second ! --ratewin-upto;;FAIL
-m ratewin --ratewin-name k --ratewin-rate 10/second --ratewin-upto --ratewin-upto;;FAIL
# keys: mode and masks
-m ratewin --ratewin-name m --ratewin-rate 10/second --ratewin-mode srcip;-m ratewin --ratewin-name m --ratewin-rate 10/second;OK
-m ratewin --ratewin-name m --ratewin-mode dstip --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name m --ratewin-mode dstport,srcip --ratewin-rate 10/second;-m ratewin --ratewin-name m --ratewin-mode srcip,dstport --ratewin-rate 10/second;OK
-m ratewin --ratewin-name m --ratewin-mode srcip,dstip,srcport,dstport --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name m --ratewin-mode srcport --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name m --ratewin-srcmask 24 --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name m --ratewin-srcmask 0 --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name m --ratewin-mode dstip --ratewin-dstmask 16 --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name m --ratewin-mode srcip,dstip --ratewin-srcmask 8 --ratewin-dstmask 24 --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name m --ratewin-srcmask 32 --ratewin-rate 10/second;-m ratewin --ratewin-name m --ratewin-rate 10/second;OK;4
-m ratewin --ratewin-name m --ratewin-srcmask 32 --ratewin-rate 10/second;=;OK;6
-m ratewin --ratewin-name m --ratewin-srcmask 64 --ratewin-rate 10/second;=;OK;6
-m ratewin --ratewin-name m --ratewin-srcmask 128 --ratewin-rate 10/second;-m ratewin --ratewin-name m --ratewin-rate 10/second;OK;6
-m ratewin --ratewin-name m --ratewin-mode dstip --ratewin-dstmask 48 --ratewin-rate 10/second;=;OK;6
-m ratewin --ratewin-name m --ratewin-srcmask 33 --ratewin-rate 10/second;;FAIL;4
-m ratewin --ratewin-name m --ratewin-srcmask 64 --ratewin-rate 10/second;;FAIL;4
-m ratewin --ratewin-name m --ratewin-mode dstip --ratewin-dstmask 33 --ratewin-rate 10/second;;FAIL;4
-m ratewin --ratewin-name m --ratewin-srcmask 129 --ratewin-rate 10/second;;FAIL;6
-m ratewin --ratewin-name m --ratewin-srcmask -1 --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name m --ratewin-srcmask 24 --ratewin-mode dstip --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name m --ratewin-dstmask 24 --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name m --ratewin-mode '' --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name m --ratewin-mode srcip, --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name m --ratewin-mode srcip,,dstip --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name m --ratewin-mode srcip,srcip --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name m --ratewin-mode proto --ratewin-rate 10/second;;FAIL
# table tuning
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-size 16 --ratewin-htable-max 1000 --ratewin-htable-expire 2000 --ratewin-htable-gcinterval 100;=;OK
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-expire 2s;-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-expire 2000;OK
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-size 16777216 --ratewin-htable-max 67108864 --ratewin-htable-expire 2592000000 --ratewin-htable-gcinterval 3600000;=;OK
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-size 1 --ratewin-htable-max 1 --ratewin-htable-expire 1 --ratewin-htable-gcinterval 10;=;OK
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-size 0;;FAIL
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-size 16777217;;FAIL
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-max 0;;FAIL
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-max 67108865;;FAIL
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-expire 0;;FAIL
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-expire 2592000001;;FAIL
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-gcinterval 9;;FAIL
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-gcinterval 3600001;;FAIL
-m ratewin --ratewin-name t --ratewin-rate 10/second --ratewin-htable-size lots;;FAIL
# names
-m ratewin --ratewin-name abcdefghijklmnopqrstuvwxyz01234 --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name ssh.v2 --ratewin-rate 10/second;-m ratewin --ratewin-name "ssh.v2" --ratewin-rate 10/second;OK
-m ratewin --ratewin-name SSH_in-22 --ratewin-rate 10/second;=;OK
-m ratewin --ratewin-name abcdefghijklmnopqrstuvwxyz012345 --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name '' --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name a/b --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name . --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name .. --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name 'a b' --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name x --ratewin-name y --ratewin-rate 10/second;;FAIL
# everything at once, given out of order
-m ratewin --ratewin-htable-gcinterval 500 --ratewin-full under --ratewin-upto --ratewin-ban 1h --ratewin-count-all --ratewin-conn-above 8 --ratewin-window 20/10s --ratewin-burst 9 --ratewin-rate 3/second --ratewin-dstmask 24 --ratewin-srcmask 16 --ratewin-mode dstport,dstip,srcip --ratewin-name all --ratewin-htable-size 64 --ratewin-htable-max 128 --ratewin-htable-expire 5000;-m ratewin --ratewin-name all --ratewin-mode srcip,dstip,dstport --ratewin-srcmask 16 --ratewin-dstmask 24 --ratewin-rate 3/second --ratewin-burst 9 --ratewin-window 20/10s --ratewin-conn-above 8 --ratewin-count-all --ratewin-ban 1h --ratewin-upto --ratewin-full under --ratewin-htable-size 64 --ratewin-htable-max 128 --ratewin-htable-expire 5000 --ratewin-htable-gcinterval 500;OK
# nothing to limit, no name
-m ratewin;;FAIL
-m ratewin --ratewin-name x;;FAIL
-m ratewin --ratewin-rate 10/second;;FAIL
-m ratewin --ratewin-name x --ratewin-upto --ratewin-ban 1m;;FAIL

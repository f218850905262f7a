# SPDX-License-Identifier: GPL-2.0
#
# Plots of a `make bench` run: gnuplot -e "dir='RESULTS_DIR'" plot.gp
#   delta.png  added cost per packet against the number of sources
#   gc.png     packet rate while GC reclaims a full table (when measured)

set terminal pngcairo size 1100,700 font "sans,11" noenhanced
set datafile missing "NaN"
set key outside right top
set grid
set logscale x 2
set xlabel "distinct source addresses (random over the range)"
set ylabel "added cost per packet (ns, vs no rule)"
set xtics ("1" 1, "32" 32, "1k" 1024, "32k" 32768, "64k" 65536, "1M" 1048576)
set title "Added cost per packet against number of sources (run ".system("basename '".dir."'").")"
set output dir."/delta.png"
# ratewin contenders solid and thick, the anchors dashed; (ct): measured
# with conntrack on, against the no-rule run with conntrack on
hdr = system("head -n1 '".dir."/delta.dat'")
ncol = words(hdr)
isrw(i) = strstrt(word(hdr, i), "ratewin") > 0
colors = "#000000 #7f7f7f #d95f02 #7570b3 #e6ab02 #1b9e77 #e7298a #a6761d #666666 #1f78b4 #66a61e #e31a1c #6a3d9a #b15928"
plot for [i=2:ncol] dir."/delta.dat" using 1:i with linespoints \
	lw (isrw(i) ? 3 : 1.5) dt 2-isrw(i) pt (i % 7 + 1) \
	lc rgb word(colors, i) title word(hdr, i)

if (!exists("gc_hl") || !exists("gc_rw")) exit

set output dir."/gc.png"
unset logscale x
set xtics auto
set title "Packet rate while GC reclaims 1M expiring entries (one other source sending)"
set xlabel "seconds after the table was filled"
set ylabel "packets per second (100 ms samples)"
set y2label "table memory, slab + vmalloc (MB)"
set y2tics
set ytics nomirror
plot gc_hl using 1:2 with lines lw 1.5 lc rgb "#d95f02" title "hashlimit pps", \
	gc_rw using 1:2 with lines lw 1.5 lc rgb "#1b9e77" title "ratewin pps", \
	gc_hl using 1:3 axes x1y2 with lines dt 2 lc rgb "#d95f02" title "hashlimit memory MB", \
	gc_rw using 1:3 axes x1y2 with lines dt 2 lc rgb "#1b9e77" title "ratewin memory MB"

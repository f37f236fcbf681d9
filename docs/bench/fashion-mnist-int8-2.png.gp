set terminal pngcairo size 900,600 noenhanced
set output 'docs/bench/fashion-mnist-int8-2.png'
set title 'fashion-mnist (single thread, recall@10 vs QPS)'
set xlabel 'recall@10'
set ylabel 'queries per second'
set logscale y
set grid
set key top right
plot 'docs/bench/fashion-mnist-int8-2.png.dat' index 0 with linespoints title 'vdb', 'docs/bench/fashion-mnist-int8-2.png.dat' index 1 with linespoints title 'vdb-int8', 'docs/bench/fashion-mnist-int8-2.png.dat' index 2 with linespoints title 'vdb-int8-norescore'

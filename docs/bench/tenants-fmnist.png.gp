set terminal pngcairo size 900,600 noenhanced
set output 'docs/bench/tenants-fmnist.png'
set title 'fashion-mnist (single thread, recall@10 vs QPS)'
set xlabel 'recall@10'
set ylabel 'queries per second'
set logscale y
set grid
set key top right
plot 'docs/bench/tenants-fmnist.png.dat' index 0 with linespoints title 'hnswlib', 'docs/bench/tenants-fmnist.png.dat' index 1 with linespoints title 'vdb'

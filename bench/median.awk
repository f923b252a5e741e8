# median.awk - of numbers sorted in ascending order, one per line (sort -n):
# "MEDIAN LOWEST HIGHEST COUNT REACHED", REACHED the count of those >= at
# (awk -v at=X; 0 without it). For the scripts that sum up repeated runs.
{ v[NR] = $1; reached += at != "" && $1 + 0 >= at + 0 }
END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.3f %.3f %.3f %d %d\n", m, v[1], v[NR], NR, reached
}

package suggest

import "strings"

// MaxDistance is the largest edit distance Closest still calls a typo.
const MaxDistance = 2

// Closest is the word of known nearest to word (case-insensitive), if it is
// at most MaxDistance edits away; ties go to the first in known.
func Closest(word string, known []string) (string, bool) {
	best, bestDist := "", MaxDistance+1
	w := strings.ToLower(word)
	for _, k := range known {
		if d := Distance(w, strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best, best != ""
}

// Distance is the Levenshtein edit distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

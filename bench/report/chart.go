package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"slices"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// palette gives each path its colour, in order of first appearance.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff}, {0x39, 0x3b, 0x79, 0xff}, {0xad, 0x49, 0x4a, 0xff},
}

type panel struct {
	title string
	rows  []Row
}

// panels groups rows into one chart panel per workload, params and figure.
// Kernel rows (no mtu) join every pipe MTU's panel of the same params, so
// each panel shows every path.
func (r *Report) panels() []panel {
	var out []panel
	index := map[string]int{}
	for _, row := range r.Rows {
		if _, mtu := splitMTU(row.Params); mtu == 0 {
			continue
		}
		key := row.Workload + " " + row.Params + " " + row.Figure
		if _, ok := index[key]; !ok {
			index[key] = len(out)
			out = append(out, panel{title: key})
		}
		out[index[key]].rows = append(out[index[key]].rows, row)
	}
	for _, row := range r.Rows {
		if _, mtu := splitMTU(row.Params); mtu != 0 {
			continue
		}
		placed := false
		for i := range out {
			p0 := out[i].rows[0]
			if rest, _ := splitMTU(p0.Params); p0.Workload == row.Workload && p0.Figure == row.Figure && rest == row.Params {
				out[i].rows = append(out[i].rows, row)
				placed = true
			}
		}
		if !placed {
			out = append(out, panel{title: row.Workload + " " + row.Params + " " + row.Figure, rows: []Row{row}})
		}
	}
	return out
}

func text(img draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(strings.ReplaceAll(s, "µ", "u")) // the face is ASCII only
}

func fill(img draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// WritePNG draws a bar chart: one panel per workload (with its params and
// figure), one bar per path in the path's colour, each panel scaled to its
// own largest value, and a legend.
func (r *Report) WritePNG(w io.Writer) error {
	ps := r.panels()
	var paths []string
	for _, row := range r.Rows {
		if !slices.Contains(paths, row.Path) {
			paths = append(paths, row.Path)
		}
	}
	const cols, pw, ph = 3, 420, 230
	// The legend wraps: place each entry, then size the image.
	type entry struct{ x, y int }
	legend := make([]entry, len(paths))
	lx, ly := 10, 30
	for i, p := range paths {
		w := 16 + 7*len(p) + 16
		if lx > 10 && lx+w > cols*pw-10 {
			lx, ly = 10, ly+18
		}
		legend[i] = entry{lx, ly}
		lx += w
	}
	top := ly + 30
	rows := (len(ps) + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*pw, top+rows*ph+10))
	fill(img, img.Bounds(), color.White)
	black := color.Black
	text(img, 10, 16, fmt.Sprintf("ws2 bench %s  %d cores %s  %s", r.Date.UTC().Format("2006-01-02 15:04Z"), r.Machine.Cores, r.Machine.CPU, r.Machine.Go), black)
	for i, p := range paths {
		e := legend[i]
		fill(img, image.Rect(e.x, e.y, e.x+12, e.y+12), palette[i%len(palette)])
		text(img, e.x+16, e.y+11, p, black)
	}
	for i, p := range ps {
		ox, oy := (i%cols)*pw, top+(i/cols)*ph
		text(img, ox+10, oy+14, p.title, black)
		base := oy + ph - 20
		maxV := 0.0
		for _, row := range p.rows {
			maxV = max(maxV, row.Value)
		}
		fill(img, image.Rect(ox+10, base, ox+pw-10, base+1), black)
		if maxV == 0 {
			continue
		}
		bw := (pw - 20) / max(len(p.rows), 1)
		for j, row := range p.rows {
			h := int(row.Value / maxV * float64(ph-60))
			x0 := ox + 10 + j*bw + 4
			fill(img, image.Rect(x0, base-h, x0+bw-8, base), palette[slices.Index(paths, row.Path)%len(palette)])
			text(img, x0, base-h-3, fmtValue(row.Value), black)
		}
	}
	return png.Encode(w, img)
}

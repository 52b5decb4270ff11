// The default theme without its web-font import: the Google Fonts @import in VitePress's fonts.css
// would be a network request at view time. Text falls back to the system sans-serif stack.
import DefaultTheme from 'vitepress/theme-without-fonts'
import './custom.css'

export default DefaultTheme

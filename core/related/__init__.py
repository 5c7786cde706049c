"""Related concerns (附议, 合并, 每月一题): similar concerns found while filing, duplicates merged, clusters offered as topics."""

using System.Collections.Frozen;
using System.Security.Cryptography;

namespace DeployFunctions.Board;

/// <summary>
/// The board's page and static files, embedded in the app at build time (the chart library, uPlot, is copied from the
/// npm package the repository pins): nothing is loaded from another origin, and each file's URL carries a hash of its
/// bytes, so it can be cached for a year.
/// </summary>
public sealed class BoardAssets
{
    private const string Prefix = "DeployFunctions.Board.";

    private static readonly FrozenDictionary<string, string> Types = new Dictionary<string, string>
    {
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".html"] = "text/html; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary();

    /// <summary>The page, its script, its styles and the chart library: each listed by the name the page asks for.</summary>
    public static readonly string[] Names = ["board.js", "board.css", "uPlot.iife.min.js", "uPlot.min.css", "favicon.svg"];

    private readonly FrozenDictionary<string, Asset> assets;

    public BoardAssets()
    {
        var loaded = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in Names.Append("board.html"))
        {
            using var stream = typeof(BoardAssets).Assembly.GetManifestResourceStream(Prefix + name)
                ?? throw new InvalidOperationException($"The board's {name} is not embedded in the app.");
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var bytes = memory.ToArray();
            loaded[name] = new Asset(bytes, Types[Path.GetExtension(name)], Convert.ToHexStringLower(SHA256.HashData(bytes))[..12]);
        }

        assets = loaded.ToFrozenDictionary(StringComparer.Ordinal);
        Page = System.Text.Encoding.UTF8.GetBytes(Versioned(System.Text.Encoding.UTF8.GetString(assets["board.html"].Bytes)));
    }

    /// <summary>The page, with each asset's URL carrying its hash (<c>assets/board.js?v=&lt;hash&gt;</c>).</summary>
    public byte[] Page { get; }

    /// <summary>An asset by name; null for anything else (no paths, no other files).</summary>
    public Asset? Find(string name) => Names.Contains(name, StringComparer.Ordinal) && assets.TryGetValue(name, out var asset) ? asset : null;

    private string Versioned(string html)
    {
        foreach (var name in Names)
        {
            html = html.Replace($"board/assets/{name}\"", $"board/assets/{name}?v={assets[name].Hash}\"", StringComparison.Ordinal);
        }

        return html;
    }

    public sealed record Asset(byte[] Bytes, string ContentType, string Hash);
}

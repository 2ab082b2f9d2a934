using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace DeployFunctions.Config;

/// <summary>What reading a repository's configuration gave.</summary>
public abstract record ConfigRead
{
    private ConfigRead()
    {
    }

    /// <summary>No file: the app's settings apply.</summary>
    public sealed record Missing : ConfigRead;

    public sealed record Valid(RepositoryConfig Config, string BlobSha) : ConfigRead;

    /// <summary>The file cannot be used; nothing deploys on a guess.</summary>
    public sealed record Invalid(IReadOnlyList<string> Errors, string? BlobSha) : ConfigRead;

}

/// <summary>
/// YAML (YamlDotNet) to JSON, validated against the schema the repository publishes (<c>schema/deployfunctions.schema.json</c>,
/// embedded; JsonSchema.Net), then read into <see cref="RepositoryConfig"/>. Every error names where it is.
/// </summary>
public static class RepositoryConfigParser
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("DeployFunctions.deployfunctions.schema.json")
            ?? throw new InvalidOperationException("The configuration schema is not embedded.");
        using var reader = new StreamReader(stream);
        return JsonSchema.FromText(reader.ReadToEnd());
    });

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The largest file read (bytes): a policy file is a few hundred; this bounds every later step.</summary>
    public const int MaxBytes = 32 * 1024;

    /// <summary>The deepest nesting accepted; the schema's deepest path is five levels.</summary>
    public const int MaxDepth = 12;

    /// <summary>The most nodes (mappings, sequences, scalars) accepted.</summary>
    public const int MaxNodes = 5000;

    public static ConfigRead Parse(string yaml, string blobSha)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        if (System.Text.Encoding.UTF8.GetByteCount(yaml) > MaxBytes)
        {
            return new ConfigRead.Invalid([$"{RepositoryConfig.Path} is larger than {MaxBytes / 1024} KiB"], blobSha);
        }

        JsonNode? json;
        try
        {
            json = ToJson(yaml);
        }
        catch (YamlException exception)
        {
            return new ConfigRead.Invalid([$"{RepositoryConfig.Path} is not valid YAML: line {exception.Start.Line}, column {exception.Start.Column}: {exception.Message}"], blobSha);
        }
        catch (RefusedYamlException refused)
        {
            return new ConfigRead.Invalid([$"{RepositoryConfig.Path}: {refused.Message}"], blobSha);
        }

        json ??= new JsonObject(); // an empty file: nothing narrowed
        var results = Schema.Value.Evaluate(JsonSerializer.SerializeToElement(json), new EvaluationOptions
        {
            OutputFormat = OutputFormat.List,
            RequireFormatValidation = true,
        });
        if (!results.IsValid)
        {
            var errors = (results.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{Where(d.InstanceLocation.ToString())}: {e.Value}"))
                .Distinct()
                .Take(20)
                .ToList();
            return new ConfigRead.Invalid(errors.Count > 0 ? errors : ["the file does not match schema/deployfunctions.schema.json"], blobSha);
        }

        // GitHub compares environment names without case: two spellings of one name are one environment named twice.
        var twice = (json["environments"] as JsonObject)?.Select(e => e.Key)
            .GroupBy(name => name, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Count() > 1)
            .Select(g => $"environments: {string.Join(" and ", g.Select(name => $"'{name}'"))} name the same environment (GitHub compares environment names without case)")
            .ToList();
        if (twice is { Count: > 0 })
        {
            return new ConfigRead.Invalid(twice, blobSha);
        }

        var config = json.Deserialize<RepositoryConfig>(Options) ?? new RepositoryConfig();
        config.Environments = new Dictionary<string, EnvironmentConfig>(config.Environments, StringComparer.OrdinalIgnoreCase);
        var problems = config.Environments
            .SelectMany(e => e.Value.Freezes.Select(f => (e.Key, Problem: f.Problem())))
            .Where(p => p.Problem is not null)
            .Select(p => $"environments.{p.Key}.freezes: {p.Problem}")
            .ToList();
        return problems.Count > 0 ? new ConfigRead.Invalid(problems, blobSha) : new ConfigRead.Valid(config, blobSha);
    }

    private static string Where(string pointer) =>
        pointer is "" or "/" ? "(the file)" : pointer.TrimStart('/').Replace('/', '.');

    /// <summary>
    /// YAML to JSON, one parser event at a time, with YAML's plain scalars typed (true, 12, null) and quoted ones kept as
    /// strings. A file anyone with write access can push must not be able to take the worker down: anchors and aliases are
    /// refused before anything is expanded (a few hundred bytes of nested aliases expand to gigabytes), nesting and node
    /// counts are capped before they are built, and keys must be plain, distinct scalars.
    /// </summary>
    private static JsonNode? ToJson(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        if (parser.TryConsume<StreamEnd>(out _))
        {
            return null;
        }

        parser.Consume<DocumentStart>();
        var nodes = 0;
        var root = parser.Accept<DocumentEnd>(out _) ? null : Read(parser, 0, ref nodes);
        parser.Consume<DocumentEnd>();
        if (!parser.Accept<StreamEnd>(out _))
        {
            throw new RefusedYamlException("holds more than one YAML document; write one");
        }

        return root;
    }

    private static JsonNode? Read(IParser parser, int depth, ref int nodes)
    {
        if (depth > MaxDepth)
        {
            throw new RefusedYamlException($"nests deeper than {MaxDepth} levels");
        }

        if (++nodes > MaxNodes)
        {
            throw new RefusedYamlException($"holds more than {MaxNodes} values");
        }

        if (parser.Accept<AnchorAlias>(out var alias))
        {
            throw new RefusedYamlException($"line {alias.Start.Line}: aliases (*{alias.Value}) are not accepted; write the values out");
        }

        if (parser.Current is NodeEvent { Anchor.IsEmpty: false } anchored)
        {
            throw new RefusedYamlException($"line {anchored.Start.Line}: anchors (&{anchored.Anchor}) are not accepted; write the values out");
        }

        if (parser.TryConsume<YamlDotNet.Core.Events.Scalar>(out var scalar))
        {
            return Scalar(scalar);
        }

        if (parser.TryConsume<SequenceStart>(out _))
        {
            var list = new JsonArray();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                list.Add(Read(parser, depth + 1, ref nodes));
            }

            return list;
        }

        var start = parser.Consume<MappingStart>();
        var map = new JsonObject();
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            if (!parser.TryConsume<YamlDotNet.Core.Events.Scalar>(out var key) || !key.Anchor.IsEmpty)
            {
                throw new RefusedYamlException($"line {parser.Current?.Start.Line ?? start.Start.Line}: keys must be plain text");
            }

            if (map.ContainsKey(key.Value))
            {
                throw new RefusedYamlException($"line {key.Start.Line}: '{key.Value}' is written twice");
            }

            map[key.Value] = Read(parser, depth + 1, ref nodes);
        }

        return map;
    }

    private static JsonValue? Scalar(YamlDotNet.Core.Events.Scalar scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return JsonValue.Create(text);
        }

        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
            _ => JsonValue.Create(text),
        };
    }
}

/// <summary>A YAML construct the app does not accept in a policy file (aliases, anchors, deep nesting, odd keys).</summary>
public sealed class RefusedYamlException : Exception
{
    public RefusedYamlException()
    {
    }

    public RefusedYamlException(string message)
        : base(message)
    {
    }

    public RefusedYamlException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

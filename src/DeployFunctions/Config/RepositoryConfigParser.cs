using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

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

    public static ConfigRead Parse(string yaml, string blobSha)
    {
        JsonNode? json;
        try
        {
            json = ToJson(yaml);
        }
        catch (YamlException exception)
        {
            return new ConfigRead.Invalid([$"{RepositoryConfig.Path} is not valid YAML: line {exception.Start.Line}, column {exception.Start.Column}: {exception.Message}"], blobSha);
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

    /// <summary>YAML to JSON with YAML's plain scalars typed (true, 12, null) and quoted ones kept as strings.</summary>
    private static JsonNode? ToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Count == 0 ? null : ToJson(stream.Documents[0].RootNode);
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(pair =>
            KeyValuePair.Create(((YamlScalarNode)pair.Key).Value ?? "", ToJson(pair.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonValue? Scalar(YamlScalarNode scalar)
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

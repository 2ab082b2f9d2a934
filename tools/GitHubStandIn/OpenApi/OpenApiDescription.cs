using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace GitHubStandIn.OpenApi;

/// <summary>
/// GitHub's published OpenAPI descriptions (npm <c>@octokit/openapi</c>, <c>@octokit/openapi-webhooks</c>, found in
/// <c>node_modules</c> from the current or the stand-in's folder upwards) and a checker for the parts of a schema that decide
/// whether the other side can read a message: <c>$ref</c>, <c>type</c> (with <c>nullable</c> or type lists), <c>required</c>,
/// <c>properties</c>, <c>items</c>, <c>enum</c>, <c>allOf</c>, <c>anyOf</c> / <c>oneOf</c> (one branch must fit),
/// <c>maxLength</c>, <c>maxItems</c> and <c>date-time</c>. In answers extra properties are allowed, as GitHub adds fields over
/// time; in requests (<see cref="CheckRequest"/>) they are not: a misspelt field is a bug GitHub would silently ignore.
/// </summary>
public sealed class OpenApiDescription
{
    private static readonly Lazy<OpenApiDescription> RestDescription =
        new(() => Load("@octokit", "openapi", "generated", "api.github.com.json"));

    private static readonly Lazy<OpenApiDescription> WebhookDescription =
        new(() => Load("@octokit", "openapi-webhooks", "generated", "api.github.com.json"));

    private readonly JsonNode root;

    private OpenApiDescription(JsonNode root)
    {
        this.root = root;
        templates = new(() => Templates(root));
    }

    public static OpenApiDescription Rest => RestDescription.Value;

    public static OpenApiDescription Webhooks => WebhookDescription.Value;

    /// <summary>The JSON schema of an answer, e.g. <c>("post", "/repos/{owner}/{repo}/deployments", 201)</c>.</summary>
    public JsonNode Response(string method, string path, int status) =>
        (root["paths"]?[path]?[method]?["responses"]?[status.ToString(CultureInfo.InvariantCulture)] is { } response
            ? Resolve(response)["content"]?["application/json"]?["schema"]
            : null)
        ?? throw new InvalidOperationException($"GitHub's description has no JSON {status} answer for {method.ToUpperInvariant()} {path}.");

    /// <summary>True when GitHub's description lists <paramref name="status"/> (with or without a body) for the operation.</summary>
    public bool Answers(string method, string path, int status) =>
        root["paths"]?[path]?[method]?["responses"]?[status.ToString(CultureInfo.InvariantCulture)] is not null;

    /// <summary>The payload schema of a webhook, e.g. <c>deployment-created</c>.</summary>
    public JsonNode Webhook(string name) =>
        root["webhooks"]?[name]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]
        ?? throw new InvalidOperationException($"GitHub's webhook description has no '{name}'.");

    /// <summary>Every way <paramref name="value"/> does not fit <paramref name="schema"/>; empty when it fits.</summary>
    public List<string> Check(JsonNode? value, JsonNode schema) => Check(value, schema, strict: false);

    private List<string> Check(JsonNode? value, JsonNode schema, bool strict)
    {
        var errors = new List<string>();
        Check(value, schema, "$", errors, strict);
        return errors;
    }

    private readonly Lazy<List<(string Template, Regex Pattern, int Literals)>> templates;

    /// <summary>The path template of GitHub's description a request path belongs to (the most literal one that fits), or null.</summary>
    public string? Template(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return templates.Value.FirstOrDefault(t => t.Pattern.IsMatch(path)).Template;
    }

    /// <summary>
    /// Every way a request breaks the description of its operation: the operation must exist for the method, each query
    /// parameter must be one it takes with a value of its type, the required ones must be there, and the JSON body must fit
    /// the operation's request schema with no property it does not name. Empty when GitHub would take it.
    /// </summary>
    public List<string> CheckRequest(string method, string path, IEnumerable<KeyValuePair<string, string>> query, JsonNode? body)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(query);
        var verb = method.ToLowerInvariant();
        if (Template(path) is not { } template || root["paths"]?[template]?[verb] is not JsonObject operation)
        {
            return [$"GitHub has no {method.ToUpperInvariant()} {path}"];
        }

        var errors = new List<string>();
        var parameters = ((operation["parameters"] as JsonArray) ?? []).Concat((root["paths"]![template]!["parameters"] as JsonArray) ?? [])
            .OfType<JsonNode>().Select(Resolve).Where(p => (string?)p["in"] == "query").ToList();
        var given = query.ToList();
        foreach (var (name, text) in given)
        {
            if (parameters.FirstOrDefault(p => (string?)p["name"] == name) is not { } parameter)
            {
                errors.Add($"query parameter '{name}' is not one {method.ToUpperInvariant()} {template} takes");
            }
            else if (parameter["schema"] is { } schema && !FitsText(text, Resolve(schema)))
            {
                errors.Add($"query parameter '{name}': '{text}' is not a {Resolve(schema)["type"]}{(Resolve(schema)["enum"] is JsonArray allowed ? $" of {allowed.ToJsonString()}" : "")}");
            }
        }

        foreach (var required in parameters.Where(p => p["required"]?.GetValue<bool>() == true))
        {
            if (!given.Any(g => g.Key == (string?)required["name"]))
            {
                errors.Add($"query parameter '{required["name"]}' is required");
            }
        }

        if (operation["requestBody"] is { } requestBody && Resolve(requestBody)["content"]?["application/json"]?["schema"] is { } bodySchema)
        {
            if (body is null)
            {
                if (Resolve(requestBody)["required"]?.GetValue<bool>() == true)
                {
                    errors.Add("a JSON body is required");
                }
            }
            else
            {
                errors.AddRange(Check(body, bodySchema, strict: true));
            }
        }

        return errors;
    }

    private static bool FitsText(string text, JsonNode schema) => (string?)schema["type"] switch
    {
        "integer" => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
        "boolean" => text is "true" or "false",
        "number" => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
        _ => schema["enum"] is not JsonArray allowed || allowed.Any(option => (string?)option == text),
    };

    private static List<(string Template, Regex Pattern, int Literals)> Templates(JsonNode root) =>
        [.. ((JsonObject)root["paths"]!).Select(p => p.Key)
            .Select(template => (Template: template, Pattern: new Regex("^" + string.Concat(template.Split('/').Skip(1).Select(segment =>
                "/" + (segment == "{path}" ? ".+" : segment.StartsWith('{') ? "[^/]+" : Regex.Escape(segment)))) + "/?$",
                RegexOptions.CultureInvariant), Literals: template.Split('/').Count(segment => !segment.StartsWith('{'))))
            .OrderByDescending(t => t.Literals)
            .ThenBy(t => t.Template.Length)];

    private static OpenApiDescription Load(params string[] path)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var file = Path.Combine([folder.FullName, "node_modules", .. path]);
                if (File.Exists(file))
                {
                    using var stream = File.OpenRead(file);
                    return new OpenApiDescription(JsonNode.Parse(stream, documentOptions: new JsonDocumentOptions { MaxDepth = 256 })!);
                }
            }
        }

        throw new InvalidOperationException($"node_modules/{string.Join('/', path)} is missing: run 'npm ci' at the repository root.");
    }

    private JsonNode Resolve(JsonNode schema)
    {
        while (schema["$ref"] is JsonValue reference)
        {
            var target = root;
            foreach (var part in ((string)reference!).TrimStart('#', '/').Split('/'))
            {
                target = target[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)]
                         ?? throw new InvalidOperationException($"Unresolvable $ref {reference}");
            }

            schema = target;
        }

        return schema;
    }

    private void Check(JsonNode? value, JsonNode rawSchema, string at, List<string> errors, bool strict = false)
    {
        var schema = Resolve(rawSchema);
        foreach (var part in schema["allOf"]?.AsArray() ?? [])
        {
            Check(value, part!, at, errors, strict);
        }

        var branches = (schema["anyOf"] ?? schema["oneOf"])?.AsArray();
        if (branches is not null)
        {
            var attempts = branches.Select(branch => Check(value, branch!, strict)).ToList();
            if (attempts.All(attempt => attempt.Count > 0))
            {
                errors.Add($"{at}: fits none of the {attempts.Count} alternatives (first: {attempts[0].FirstOrDefault()})");
            }
        }

        var types = schema["type"] switch
        {
            JsonArray list => list.Select(t => (string)t!).ToList(),
            JsonValue one => [(string)one!],
            _ => [],
        };
        if (value is null)
        {
            if (types.Count > 0 && !types.Contains("null") && schema["nullable"]?.GetValue<bool>() != true)
            {
                errors.Add($"{at}: is null, schema allows {string.Join("|", types)}");
            }

            return;
        }

        if (types.Count > 0 && !types.Any(type => Is(value, type)))
        {
            errors.Add($"{at}: is {value.GetValueKind()}, schema wants {string.Join("|", types)}");
            return;
        }

        if (schema["enum"] is JsonArray allowed && value is JsonValue &&
            !allowed.Any(option => option is not null && JsonNode.DeepEquals(option, value)))
        {
            errors.Add($"{at}: {value.ToJsonString()} is not one of {allowed.ToJsonString()}");
        }

        if ((string?)schema["format"] == "date-time" && value is JsonValue text && text.TryGetValue<string>(out var time) &&
            !DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
        {
            errors.Add($"{at}: '{time}' is not a date-time");
        }

        if (value is JsonObject obj)
        {
            foreach (var name in schema["required"]?.AsArray().Select(r => (string)r!) ?? [])
            {
                if (!obj.ContainsKey(name))
                {
                    errors.Add($"{at}: lacks required '{name}'");
                }
            }

            foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
            {
                if (obj.TryGetPropertyValue(name, out var child))
                {
                    Check(child, property!, $"{at}.{name}", errors, strict);
                }
            }

            // A request names only what the operation takes (an object schema's own properties, unless it allows more).
            if (strict && schema["properties"] is JsonObject known && schema["additionalProperties"]?.GetValueKind() is null or JsonValueKind.False)
            {
                foreach (var (name, _) in obj.Where(p => !known.ContainsKey(p.Key)))
                {
                    errors.Add($"{at}: '{name}' is not a field GitHub takes here ({string.Join(", ", known.Select(k => k.Key))})");
                }
            }

            if (schema["maxProperties"] is JsonValue maxProperties && obj.Count > maxProperties.GetValue<int>())
            {
                errors.Add($"{at}: has {obj.Count} properties, at most {maxProperties} allowed");
            }
        }

        if (value is JsonValue scalar && scalar.TryGetValue<string>(out var characters) && schema["maxLength"] is JsonValue maxLength &&
            characters.Length > maxLength.GetValue<int>())
        {
            errors.Add($"{at}: is {characters.Length} characters, at most {maxLength} allowed");
        }

        if (value is JsonArray counted && schema["maxItems"] is JsonValue maxItems && counted.Count > maxItems.GetValue<int>())
        {
            errors.Add($"{at}: has {counted.Count} items, at most {maxItems} allowed");
        }

        if (value is JsonArray array && schema["items"] is { } items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Check(array[i], items, $"{at}[{i}]", errors, strict);
            }
        }
    }

    private static bool Is(JsonNode value, string type) => (type, value.GetValueKind()) switch
    {
        ("object", JsonValueKind.Object) => true,
        ("array", JsonValueKind.Array) => true,
        ("string", JsonValueKind.String) => true,
        ("boolean", JsonValueKind.True or JsonValueKind.False) => true,
        ("number", JsonValueKind.Number) => true,
        ("integer", JsonValueKind.Number) => value.AsValue().TryGetValue<long>(out _),
        _ => false,
    };
}
